FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway gateway
COPY resolvers resolvers
COPY adapters adapters
COPY sandbox sandbox
RUN pip install --no-cache-dir .
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
USER nobody
CMD ["commerce-gateway", "serve", "--host", "0.0.0.0"]
