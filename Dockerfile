# NetBox with netbox-hedgehog: the official netbox-docker image plus this plugin in NetBox's own venv.
# Build:  docker compose build   (or: docker build -t netbox-hedgehog .)
ARG NETBOX_IMAGE=docker.io/netboxcommunity/netbox:v4.7
FROM ${NETBOX_IMAGE}

USER root

COPY pyproject.toml README.md /opt/netbox-hedgehog/
COPY netbox_hedgehog /opt/netbox-hedgehog/netbox_hedgehog
COPY scheduler_worker /opt/netbox-hedgehog/scheduler_worker

# netbox-docker 3.x builds its venv with uv and leaves pip out of it; older images ship pip instead.
RUN if [ -x /usr/local/bin/uv ]; then \
        /usr/local/bin/uv pip install --no-cache --python /opt/netbox/venv/bin/python /opt/netbox-hedgehog; \
    else \
        /opt/netbox/venv/bin/pip install --no-cache-dir /opt/netbox-hedgehog; \
    fi

# PLUGINS and PLUGINS_CONFIG (passed through from NETBOX_HEDGEHOG_* variables).
COPY docker/config/plugins.py /etc/netbox/config/plugins.py

# The plugin's static files must be collected into the image like NetBox's own; the key only satisfies
# NetBox's start-up check during the build.
RUN SECRET_KEY="build-time-only-collectstatic-key-0123456789abcdefghijklmnop" \
    /opt/netbox/venv/bin/python /opt/netbox/netbox/manage.py collectstatic --no-input
