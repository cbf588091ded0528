#!/usr/bin/env bash
# Energy Bridge — Debian's mosquitto for the MQTT integration tests (test/helpers/mosquitto.ts starts
# its own broker as `mosquitto -c <temp conf>` on a free loopback port). See setup-apt-tool.sh.
exec bash "$(dirname "$0")/setup-apt-tool.sh" mosquitto mosquitto "the MQTT integration tests"
