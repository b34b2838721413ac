# One image for the API and the worker; the command chooses which runs. Production image:
# the package and exactly the runtime dependencies uv.lock pins (no dependency group: no
# tests, no dev stack, no Temporal CLI or test server, no SMTP catcher); ENVIRONMENT is left
# unset, which means production.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
WORKDIR /app
RUN pip install uv==0.13.9

# The dependencies first, as their own layer: a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-default-groups --no-install-project

COPY settings.py worker.py alembic.ini ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY db ./db
COPY api ./api
COPY ops ./ops
RUN uv sync --frozen --no-default-groups --no-editable \
    && useradd --create-home --uid 10001 app && mkdir -p /data && chown app /data

USER app
ENV DATA_DIR=/data PATH=/app/.venv/bin:$PATH
EXPOSE 8000
CMD ["python", "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
