#!/bin/sh
# make-demo-media.sh DIR: make a small set of sample media for the evault
# demo, with the ffmpeg and exiftool programs only (nothing is downloaded):
#
#   videos/clip-640x360.mp4  5 s H.264 test pattern with a 440 Hz AAC tone
#   videos/clip-short.mkv    2 s Matroska (H.264 + Opus)
#   photos/still-1.jpg       test-pattern stills at 1 s, 2 s and 3 s;
#   photos/still-2.jpg       still-1.jpg carries camera EXIF (Make, Model,
#   photos/still-3.jpg       DateTimeOriginal) and a GPS position, as a
#                            phone photo would; still-3.jpg an XMP date
#                            that disagrees with its EXIF one; the MP4 a
#                            creation time and an ISO 6709 location
#   photos/frame.png         one lossless frame
#
# DIR is created if missing; files already there are replaced.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
for tool in ffmpeg exiftool; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$0: '$tool' is missing: run scripts/setup.sh first" >&2
		exit 2
	fi
done
mkdir -p "$dir/videos" "$dir/photos"

ff() {
	ffmpeg -nostdin -hide_banner -loglevel error -y "$@"
}

# A 5-second 640x360 video with a sine tone, as MP4 (H.264 + AAC).
ff -f lavfi -i "testsrc=size=640x360:rate=25:duration=5" \
	-f lavfi -i "sine=frequency=440:sample_rate=48000:duration=5" \
	-c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 96k \
	-metadata creation_time=2011-12-16T10:33:40Z \
	-metadata location=+43.3411+052.8614/ \
	-shortest -movflags +faststart "$dir/videos/clip-640x360.mp4"

# A short Matroska file (H.264 + Opus), another common container.
ff -f lavfi -i "testsrc2=size=320x240:rate=30:duration=2" \
	-f lavfi -i "sine=frequency=660:sample_rate=48000:duration=2" \
	-c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a libopus -b:a 48k \
	-shortest "$dir/videos/clip-short.mkv"

# Stills from the test pattern at different moments.
for i in 1 2 3; do
	ff -f lavfi -i "testsrc=size=1280x720:rate=1:duration=5" \
		-ss "$i" -frames:v 1 -q:v 3 "$dir/photos/still-$i.jpg"
done
ff -f lavfi -i "testsrc=size=320x180:rate=1:duration=1" -frames:v 1 \
	"$dir/photos/frame.png"

# Camera facts on one photo, as a phone would write them.
exiftool -q -overwrite_original \
	-Make="DemoPhone" -Model="DP-1" \
	-DateTimeOriginal="2011:12:16 14:32:05" \
	-GPSLatitude=43.3411 -GPSLatitudeRef=N \
	-GPSLongitude=52.8614 -GPSLongitudeRef=E \
	"$dir/photos/still-1.jpg"

ls -lR "$dir"

# A photo whose XMP, added later by an editor, claims another day than its
# EXIF: evault show flags the disagreement.
exiftool -q -overwrite_original \
	-Make="DemoPhone" -Model="DP-1" \
	-DateTimeOriginal="2011:12:16 14:40:12" \
	-XMP-exif:DateTimeOriginal="2011:12:19 09:15:00" \
	"$dir/photos/still-3.jpg"
