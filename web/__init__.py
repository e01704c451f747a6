"""Web pages for operators: browse and edit what each agent knows, and why it answered.

Served by the API's process (`api/app.py` includes `web.routes.router`), behind the same API
keys: a browser signs in with a key and holds a signed session cookie. Pages read through the
API's services and every change runs as the same workflow the API starts."""
