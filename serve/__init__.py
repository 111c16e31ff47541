"""`funnel serve`: the CRMs' webhooks in, the run engine's live funnel out.

hooks/ turns each CRM's request into canonical deal events (pure functions),
mapping.py reads which CRM stage and field is which spec stage and field,
app.py is the ASGI application over the run engine. Nothing in dsl/ or
engine/ imports this package.
"""
