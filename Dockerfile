# syntax=docker/dockerfile:1
#
# One image for every xbr role: `xbr serve --functions <name>` picks the role
# at run time (see docker-compose.yml and deploy/). Build it with
#
#   docker build -t xbr:latest .                         # the xbr image (default target)
#   docker build --target versitygw -t xbr-s3gw:latest . # the S3 gateway of docker-compose.yml
#
# The runtime is debian-slim (CA certificates for pools and S3 over TLS, curl
# for health checks) running as the unprivileged user xbr (uid 10001).

ARG GO_VERSION=1.26

# ---- build: the static xbr binary -----------------------------------------
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X xbr/shared/cli.Version=${VERSION}" -o /out/xbr . \
 && /out/xbr version

# ---- versitygw: the S3 gateway in front of the NFS share, from its Go module
FROM golang:${GO_VERSION}-bookworm AS versitygw-build
ARG VERSITYGW_VERSION=v1.8.0
RUN --mount=type=cache,target=/root/go/pkg/mod \
    CGO_ENABLED=0 GOBIN=/out go install github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 xbr \
 && useradd --system --uid 10001 --gid xbr --home-dir /var/lib/xbr --shell /usr/sbin/nologin xbr \
 && install -d -o xbr -g xbr /var/lib/xbr /etc/xbr

FROM runtime AS versitygw
COPY --from=versitygw-build /out/versitygw /usr/local/bin/versitygw
# Mount points of the share and of the metadata sidecar (NFSv3 has no xattrs).
RUN install -d -o xbr -g xbr /share /meta
USER xbr:xbr
EXPOSE 7070
ENTRYPOINT ["/usr/local/bin/versitygw"]

# ---- xbr: the default target ----------------------------------------------
FROM runtime AS xbr
COPY --from=build /out/xbr /usr/local/bin/xbr
USER xbr:xbr
WORKDIR /var/lib/xbr
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/xbr"]
# Without arguments: the self-contained demo (embedded NATS, simulated pool).
CMD ["serve", "--data-dir", "/var/lib/xbr", "--http", "0.0.0.0:8080"]
