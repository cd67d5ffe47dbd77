"""MDF's use cases, one module per sub-domain: load through the ports (`mdf.ports`), apply a rule from `mdf.domain`,
save conditionally (retrying a lost race), then start, schedule or mail through the ports.

- `base`: what every use case shares (the repository, the clock, the read-decide-write loop);
- `funds`, `requests`, `claims`: the HTTP edge's use cases (`mdf.api`; ports: the repository, proof storage);
- `funds_lifecycle`, `requests_lifecycle`, `claims_lifecycle`: what happens on events, workflow messages and timers
  (`mdf.consumers`; also the workflows, timers, mail and side-effect ports).

The two edges import only their own modules: an API function neither renders nor sends mail.
"""
