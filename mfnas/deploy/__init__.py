"""Deployment: export the model a run found (``export``), as a model folder (``bundle``), and
serve it over HTTP (``server``), each task's model answering its endpoint (``served``)."""
