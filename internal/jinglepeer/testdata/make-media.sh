#!/bin/sh
# Regenerates the media that jinglepeer plays when it is not echoing:
# two seconds of a VP8 test pattern and of an Opus tone, looped by the
# players. Needs Debian's ffmpeg (apt-get install ffmpeg), which has
# libvpx and libopus. The files are committed; this script only documents
# how they were made.
set -eu
cd "$(dirname "$0")"
# VP8 in IVF: 160x120 test pattern at 15 frames/s, a keyframe every
# second (so a receiver that joins late, or a loop restart, decodes at once),
# no alt-ref frames (pion's ivfreader hands out one frame per sample).
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=160x120:rate=15 \
	-t 2 -c:v libvpx -b:v 60k -g 15 -keyint_min 15 -auto-alt-ref 0 -deadline good \
	-fflags +bitexact -flags +bitexact pattern.ivf
# Opus in Ogg: a 440 Hz tone, 48 kHz mono, 20 ms frames, one frame per
# Ogg page (-page_duration), as pion's oggreader player expects.
ffmpeg -hide_banner -loglevel error -y -f lavfi -i sine=frequency=440:sample_rate=48000 \
	-t 2 -c:a libopus -b:a 24k -frame_duration 20 -page_duration 20000 -ac 1 \
	-fflags +bitexact -flags:a +bitexact tone.ogg
