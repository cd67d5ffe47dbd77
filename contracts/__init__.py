"""Published event contracts (the PRM's published language): one pydantic model per detail-type.

Each context publishes its own models here (`contracts.<context>`) so consumers in other contexts, the schema
generator and the contract tests use one definition. The JSON Schemas in events/schemas/ are generated from them;
`contracts.catalogue` lists them all (tooling only: a function imports just the contracts it uses).
"""
