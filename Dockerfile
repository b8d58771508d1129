FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway gateway
COPY resolvers resolvers
COPY adapters adapters
COPY sandbox sandbox
RUN pip install --no-cache-dir . && mkdir /data && chown nobody /data
# The embedded database needs a directory the unprivileged user can write; production
# points DATABASE_URL at PostgreSQL instead.
ENV HOST=0.0.0.0 PORT=8000 DATABASE_URL=sqlite+aiosqlite:////data/commerce-gateway.db
VOLUME /data
EXPOSE 8000
USER nobody
CMD ["commerce-gateway", "serve", "--host", "0.0.0.0"]
