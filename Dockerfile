# The portal as a container: built wheel in one stage, a slim non-root runtime in the other.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY portal ./portal
COPY templates ./templates
COPY static ./static
COPY locales ./locales
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 portal
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER portal
WORKDIR /home/portal
EXPOSE 8000
CMD ["portal", "serve", "--host", "0.0.0.0", "--port", "8000"]
