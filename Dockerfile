# The platform image for docker-compose.localstack.yml: the local cloud with the project's own pinned packages.
# 3.11.7 is the interpreter the test suite runs on; bookworm is the Debian release of the development machines.
FROM python:3.11.7-slim-bookworm

ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOCAL_BIND_HOST=0.0.0.0

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app

WORKDIR /app
# The one list `make install` installs (requirements-dev.txt includes requirements.txt), copied before
# the code so that a code change does not reinstall every package.
COPY requirements.txt requirements-dev.txt ./
RUN pip install -q -r requirements-dev.txt

COPY . .
# localcloud (localcloud/) runs the template; its dependencies are the pinned ones installed above.
RUN pip install -q --no-deps ./localcloud && mkdir -p .localcloud && chown app:app .localcloud

USER app
EXPOSE 3001 3002 3005 3101 4001
# Migrations first (idempotent), then the local cloud in the foreground as PID 1's only child.
CMD ["sh", "-c", "python -m infra.migrate && exec python -m tools.run_local run"]
