# syntax=docker/dockerfile:1
# Multi-stage build: a static, CGO-free binary (SQLite is the pure-Go
# modernc.org/sqlite) on a distroless non-root base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/portalbot . && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/portalbot /portalbot
# The default database is sqlite:portalbot.db in the working directory:
# give nonroot one it can write (/ is root's). Mount a volume at /data to
# keep it across restarts.
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
USER nonroot:nonroot
EXPOSE 8080
ENV PORTALBOT_HTTP_ADDR=:8080
ENTRYPOINT ["/portalbot"]
CMD ["serve"]
