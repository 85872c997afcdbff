"""The web console at ``/console/``: people sign in with an API key and use the service
through pages rendered on the server (Flask and Jinja, one small script, every asset served by
the app).

Every page calls the HTTP API inside the same process (`client.api`) with the signed-in key,
so the console shows exactly what the API answers (same figures, same errors, same tenant
rules) and holds no second copy of any computation.
"""
