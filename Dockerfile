# syntax=docker/dockerfile:1

# Builder and runtime share a Debian release: the binary links the builder's
# glibc dynamically because of cgo.
FROM golang:1.26-trixie AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# go-sqlite3 is a cgo package: built with CGO_ENABLED=0 it still compiles but
# fails at run time, so never rely on the toolchain's default here.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/kpitrail ./cmd/kpitrail

FROM debian:trixie-slim
# curl serves the compose health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
# /data (and /keys, where instances sharing a cluster keep the
# deployment's signing key) exist and belong to the service user before
# VOLUME, so a fresh named volume is created writable for it.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home kpitrail \
 && mkdir /data /keys && chown kpitrail:kpitrail /data /keys
COPY --from=build /out/kpitrail /usr/local/bin/kpitrail
USER kpitrail
ENV KPITRAIL_DATA=/data \
    KPITRAIL_HTTP=:8080
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["kpitrail"]
CMD ["serve"]
