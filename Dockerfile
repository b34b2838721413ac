# One image for the API and the worker; the command chooses which runs. Production image:
# the package without dev extras, no tests, no dev stack; ENVIRONMENT is left unset, which
# means production.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY settings.py worker.py alembic.ini ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY db ./db
COPY api ./api
COPY ops ./ops
RUN pip install . && useradd --create-home --uid 10001 app && mkdir -p /data && chown app /data

USER app
ENV DATA_DIR=/data
EXPOSE 8000
CMD ["python", "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
