# ipvalue: gunicorn serving the API, as a non-root user, in a slim image.
#   docker build -t ipvalue .
#   docker run -p 8000:8000 -e IPVALUE_DATABASE_URL=postgresql+psycopg://... ipvalue
# The same image runs the Dask scheduler and workers (compose.yaml): jobs import ipvalue there.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY models/ models/
COPY valuation/ valuation/
COPY risk/ risk/
COPY api/ api/
COPY examples/ examples/
RUN python -m venv /opt/ipvalue && /opt/ipvalue/bin/pip install --quiet .

FROM python:3.11-slim
# One unprivileged user owns the instance folder (gunicorn's control socket, the workers'
# metrics) and the compile caches (they must not be writable by anybody else).
RUN groupadd --system --gid 10001 ipvalue \
    && useradd --system --uid 10001 --gid ipvalue --home-dir /srv/ipvalue --create-home ipvalue \
    && install -d -o ipvalue -g ipvalue -m 0700 /srv/ipvalue/instance /srv/ipvalue/cache
COPY --from=build /opt/ipvalue /opt/ipvalue
COPY examples/ /srv/ipvalue/examples/
ENV PATH=/opt/ipvalue/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IPVALUE_BIND=0.0.0.0:8000 \
    IPVALUE_INSTANCE_PATH=/srv/ipvalue/instance \
    IPVALUE_CACHE_DIR=/srv/ipvalue/cache
USER ipvalue
WORKDIR /srv/ipvalue
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["ipvalue", "serve", "--production"]
