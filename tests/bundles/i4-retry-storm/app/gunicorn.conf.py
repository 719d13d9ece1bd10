# /etc/shipyard/gunicorn.conf.py
# gunicorn settings for the shipyard deploy API
bind = "127.0.0.1:8010"
workers = 2
worker_class = "sync"
# deployments can take a while
timeout = 120
graceful_timeout = 30
keepalive = 2
errorlog = "-"
accesslog = None
loglevel = "info"
capture_output = True
