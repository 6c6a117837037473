"""The services' shared foundation (install with ``pip install -e '.[services]'``).

``create_app`` (app.py) gives every service the same FastAPI app: ``/health``, ``/metrics``
(Prometheus text), API keys checked against their hashes (keys.py), a per-key rate limit
(ratelimit.py) and settings from the environment (settings.py). A service (scoring, daemon,
streaming, monitoring, feedback, ...) is a package beside this one that passes its routers in;
its data goes under ``settings.data_dir`` ($AIVJ_HOME/services/<name>).
"""
