#!/usr/bin/env bash
# `npm run images`: builds the run-lambda and run-geolambda images with Docker, tagged with package.json's version.
# Usage: bash images/build.sh [--push] [--platform linux/amd64]
# Env: IMAGE_REPO (default cirrusgeo), LAMBDA_BASE_IMAGE / GEOLAMBDA_BASE_IMAGE (override the pinned bases).
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

push=false
platform=linux/amd64
while [ $# -gt 0 ]; do
  case "$1" in
    --push) push=true ;;
    --platform) platform=${2:?--platform needs a value}; shift ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "images/build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v docker >/dev/null 2>&1; then
  echo "images/build.sh: no docker command here, so the images were not built." >&2
  echo "Build them where Docker runs: npm ci && npm run images (see docs/deploy.md)." >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "images/build.sh: docker is installed but no Docker engine answers, so the images were not built." >&2
  echo "Start the engine (or point DOCKER_HOST at one) and run npm run images again." >&2
  exit 1
fi

version=$(node -p "require('./package.json').version")
repo=${IMAGE_REPO:-cirrusgeo}

npm run build --silent
test -f dist/run-lambda.mjs || { echo "images/build.sh: dist/run-lambda.mjs is missing after npm run build" >&2; exit 1; }

build() { # name base-image-override
  local name=$1 base=$2
  local args=(--file "images/$name/Dockerfile" --platform "$platform" --build-arg "VERSION=$version"
    --tag "$repo/$name:$version")
  [ -n "$base" ] && args+=(--build-arg "BASE_IMAGE=$base")
  echo "building $repo/$name:$version ($platform)" >&2
  # BuildKit reads images/<name>/Dockerfile.dockerignore, which keeps the context to the two files the image copies.
  DOCKER_BUILDKIT=1 docker build "${args[@]}" .
  # The image's contract: `run` starts the bundled runner with plain node.
  docker run --rm --platform "$platform" "$repo/$name:$version" run --version
  if [ "$push" = true ]; then docker push "$repo/$name:$version"; fi
}

build run-lambda "${LAMBDA_BASE_IMAGE:-}"
build run-geolambda "${GEOLAMBDA_BASE_IMAGE:-}"
echo "built $repo/run-lambda:$version and $repo/run-geolambda:$version" >&2
