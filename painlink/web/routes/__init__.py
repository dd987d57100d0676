"""The web app's routers, one per audience: ``auth`` (signing in, registering, resets),
``diary`` (a patient's own pages), ``account`` (sharing, import and export, deletion,
second factor, password), ``clinic`` (clinicians), ``admin`` and ``api`` (the JSON
API, in OpenAPI). ``painlink.web.app.create_app`` includes them; they never import it.
"""
