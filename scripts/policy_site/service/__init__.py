"""The subscription service (`policy subscriptions serve`): subscribe with double opt-in, preferences, unsubscribe.

    config.py     mkdocs.yml and the environment, checked once at start
    tokens.py     CSRF tokens, confirmation tokens; the unsubscribe and preferences tokens come from notify/message.py
    guard.py      where a POST may come from (CSRF and Origin), the request body's size
    ratelimit.py  requests per client, in memory (the per-address limit is counted in the database: notify/pending.py)
    forms.py      reading and checking what a form submitted
    pages.py      the HTML pages (templates/subscriptions/), their security headers
    mail.py       the confirmation email, sent through the notices' transport (SMTP or the outbox)
    actions.py    what each page does to the store, run in worker threads (one store per thread)
    app.py        the Starlette application: routes and handlers
    server.py     uvicorn, its logging (no access log: tokens are in URLs) and the trusted proxies

It imports notify/ (the store, pending subscriptions, tokens, the transport), site/ (templates, choices) and
settings; nothing imports it but the command line.
"""
