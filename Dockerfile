# returnpath: one image for every role (serve; or CLI commands against the same database).
# The build stage has a C compiler: parsers/ is compiled with mypyc (hatch_build.py), and
# RETURNPATH_MYPYC=required makes a failed compilation fail the build instead of silently
# shipping the slower pure-Python parsers. The runtime stage gets the venv only (no gcc).
FROM python:3.11-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
ENV RETURNPATH_MYPYC=required
WORKDIR /src
COPY pyproject.toml README.md LICENSE hatch_build.py ./
COPY requirements/runtime.txt ./requirements/
# The locked dependencies first, each checked against its hash (a layer that survives code
# changes), then the project alone: a local folder has no hash to check.
RUN python -m venv /opt/returnpath \
 && /opt/returnpath/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/runtime.txt
COPY src ./src
RUN /opt/returnpath/bin/pip install --no-cache-dir --no-deps . \
 && /opt/returnpath/bin/pip check

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/returnpath --create-home returnpath
COPY --from=build /opt/returnpath /opt/returnpath
ENV PATH=/opt/returnpath/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    RETURNPATH_SMTP_HOST=0.0.0.0 \
    RETURNPATH_API_HOST=0.0.0.0 \
    RETURNPATH_LOG_FORMAT=json \
    RETURNPATH_DATABASE_URL=sqlite+aiosqlite:////var/lib/returnpath/returnpath.db
USER returnpath
WORKDIR /var/lib/returnpath
VOLUME ["/var/lib/returnpath"]
EXPOSE 2525 8025
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8025/readyz', timeout=2).status == 200 else 1)"
STOPSIGNAL SIGTERM
ENTRYPOINT ["returnpath"]
CMD ["serve"]
