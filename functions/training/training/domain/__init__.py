"""Training's rules as pure functions, by sub-domain: access, catalogue, connections, people, completions, awards,
review and imports. Domain values and records in, records and events out; no boto3, no HTTP."""
