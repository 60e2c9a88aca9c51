"""Gunicorn settings, read from the working directory when gunicorn starts.

The command line still wins, so `gunicorn --bind 0.0.0.0:8000 app:app` keeps its bind.
"""

# gunicorn >= 25.1 would otherwise create a control socket, gunicorn.ctl, in the working
# directory, which is read-only in the image; nothing here uses gunicornc.
control_socket_disable = True

# Access log to stdout, next to the error log on stderr, for the cluster's log collector.
accesslog = "-"

# Finish in-flight requests after SIGTERM well within Kubernetes' 30 s grace period.
graceful_timeout = 20
