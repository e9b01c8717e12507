# The portal as a container: the wheel is built in one stage, a slim non-root runtime runs it.
# Build and run: see README ("Deploying on Fly.io"). Translations are compiled from locales/ in
# memory when the app starts, so the image carries no separate .mo files to go stale.
# Everything installed comes from the lock (requirements/README.md): exact versions, checked by hash.
# Only the portal: the development tools (devtools/: the Stripe sandbox, the demo, the bench, with
# aiosmtpd and fpdf2) are neither copied nor installed, and requirements/portal.txt lacks them.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements/build.txt ./requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/build.txt
COPY pyproject.toml README.md ./
COPY portal ./portal
COPY templates ./templates
COPY static ./static
COPY locales ./locales
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 portal
COPY requirements/portal.txt /tmp/portal.txt
RUN pip install --no-cache-dir --require-hashes -r /tmp/portal.txt && rm /tmp/portal.txt
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl && rm -rf /wheels
USER portal
WORKDIR /home/portal
ENV PYTHONUNBUFFERED=1 PORTAL_LOG_FORMAT=json
EXPOSE 8000
# Uvicorn's proxy headers stay off: it would believe the left-most X-Forwarded-For entry, which
# the client chooses; the portal reads PORTAL_CLIENT_IP_HEADER instead (portal/clientip.py).
# Two workers per machine; on SIGTERM uvicorn stops accepting, lets in-flight requests finish
# (up to 20 s) and exits; the outbox's leases make an interrupted send safe to retry.
# `--http portal.serving:NoDelayH11Protocol`: uvicorn's h11 with TCP_NODELAY, which its
# `--workers` sockets lack (an answer would wait ~40 ms for the client's delayed ACK).
CMD ["uvicorn", "--factory", "portal.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--http", "portal.serving:NoDelayH11Protocol", "--no-access-log", "--no-proxy-headers", "--timeout-graceful-shutdown", "20"]
