/*
 * thumbs.c: pictures of a file for people to look at.  The certificate's
 * HTML page (docs/certificate.md section 8) shows what the evidence looks
 * like: a contact sheet of frames at regular times for a video, the
 * picture itself for a photo.  Decoding hostile media is what the probe is
 * for, so they are made here, inside its sandbox, and leave it as small
 * JPEGs.
 *
 * Videos: libavformat over the file in memory, opened by av.c exactly as
 * for the metadata; the first video stream; for each of `count` times
 * (i + 0.5) * duration / count, a backward seek to the key frame before it
 * and decoding on to the first frame at or after it (frames that no other
 * frame refers to are skipped on the way there).  Photos (JPEG, PNG, GIF,
 * TIFF, WebP): the whole file to the matching libavcodec decoder.
 * HEIF/AVIF: libheif assembles the picture (grids, rotation, mirroring,
 * cropping) and a decoder plugin of ours decodes its tiles with
 * libavcodec: libheif's own decoders (libde265, dav1d) start threads,
 * which the sandbox forbids.
 *
 * Each picture is turned upright (a JPEG's EXIF orientation and a video's
 * display matrix, both as libavcodec and libavformat export them; libheif
 * applies HEIF's own), scaled by libswscale to at most max_width wide
 * keeping its shape, and encoded by libavcodec's MJPEG encoder at a fixed
 * quality: a baseline JPEG any browser shows.  Decoders run
 * single-threaded, without hardware, under a pixel limit (they refuse a
 * picture before allocating it), a packet budget per thumbnail and a time
 * budget per file: a hostile file gets fewer thumbnails and an error,
 * never a loop.  Previews the file carries (EXIF and HEIF thumbnails) are
 * never used: they are the file's claims about itself, and may show
 * another picture than the one it holds.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libheif/heif.h>
#include <libheif/heif_plugin.h>
#include <libswscale/swscale.h>
#include <sodium.h>

#include "vault/internal.h"
#include "vault/media/media.h"
#include "vault/vault.h"

/* The largest picture decoded: sides, and pixels (100 Mpixel, a 12-bit
 * 4:4:4 frame of which is 600 MB: the probe has 1 GiB). */
#define THUMB_SIDE_MAX 16384
#define THUMB_PIXELS_MAX (100 * 1000 * 1000)
/* Packets read for one thumbnail: a key frame and the frames up to the
 * time asked for (10 s of 60 fps is 600), with room for other streams'. */
#define THUMB_READS 2048
/* Frames taken from the decoder after one packet. */
#define THUMB_FRAMES 64
/* One file may keep the probe this long; its parent waits 30 s. */
#define THUMB_BUDGET (20 * 1000000LL)
/* The MJPEG quantiser: 2 is the best, 31 the worst; 3 is near a JPEG
 * quality of 90. */
#define THUMB_QSCALE 3
/* A thumbnail is at most this many times as tall as max_width. */
#define THUMB_TALL VAULT_THUMB_TALL
/* Room left in the answer for other members than the pictures. */
#define THUMB_DOC_SPARE (1u << 20)

struct thumbs {
	media_ctx m; /* data, len; errors and warnings */
	json_t *list;
	unsigned max_width;
	size_t room;	  /* base64 bytes the answer can still take */
	int64_t deadline; /* av_gettime_relative() */
	int av_open_rc;	  /* libavformat could not open the file: why */
};

static int timed_out(const struct thumbs *t)
{
	return av_gettime_relative() > t->deadline;
}

static int size_ok(struct thumbs *t, const char *who, int w, int h)
{
	if (w > 0 && h > 0 && w <= THUMB_SIDE_MAX && h <= THUMB_SIDE_MAX &&
	    (int64_t)w * h <= THUMB_PIXELS_MAX)
		return 1;
	media_error(&t->m, who,
		    "a %dx%d picture is not decoded (at most "
		    "%dx%d and %d Mpixel)",
		    w, h, THUMB_SIDE_MAX, THUMB_SIDE_MAX,
		    THUMB_PIXELS_MAX / 1000000);
	return 0;
}

/* --- orientation ----------------------------------------------------------- */

/* EXIF orientation (1-8) of a display matrix: the one whose matrix, as
 * libavcodec's JPEG decoder writes it for that orientation, has the same
 * shape (signs and zeros of the 2x2 part; a video's matrix may be
 * scaled).  1 for a matrix that is no quarter turn nor mirror of it. */
static int matrix_orientation(const int32_t *m)
{
	static const struct {
		double angle;
		int flip;
	} exif[9] = {{0, 0},  {0, 0},  {0, 1},	 {180, 0}, {180, 1},
		     {90, 1}, {90, 0}, {-90, 1}, {-90, 0}};
	double big = 0;
	int idx[4] = {0, 1, 3, 4};

	for (int k = 0; k < 4; k++)
		big = fmax(big, fabs((double)m[idx[k]]));
	if (big == 0)
		return 1;
	for (int o = 1; o <= 8; o++) {
		int32_t ref[9];
		int same = 1;
		av_display_rotation_set(ref, exif[o].angle);
		if (exif[o].flip)
			av_display_matrix_flip(ref, 1, 0);
		for (int k = 0; k < 4 && same; k++) {
			double v = m[idx[k]] / big, r = ref[idx[k]] / 65536.0;
			int sv = v > 0.5 ? 1 : v < -0.5 ? -1 : 0;
			int sr = r > 0.5 ? 1 : r < -0.5 ? -1 : 0;
			same = sv == sr;
		}
		if (same)
			return o;
	}
	return 1;
}

static int frame_orientation(const AVFrame *f, const AVStream *st)
{
	if (st) {
		for (int i = 0; i < st->nb_side_data; i++)
			if (st->side_data[i].type ==
				    AV_PKT_DATA_DISPLAYMATRIX &&
			    st->side_data[i].size >= 9 * sizeof(int32_t))
				return matrix_orientation(
					(const int32_t *)st->side_data[i].data);
	}
	const AVFrameSideData *sd =
		av_frame_get_side_data(f, AV_FRAME_DATA_DISPLAYMATRIX);
	if (sd && sd->size >= 9 * sizeof(int32_t))
		return matrix_orientation((const int32_t *)sd->data);
	return 1;
}

/* Where output pixel (x, y) of a picture turned by EXIF orientation o
 * comes from, in the w x h picture before the turn. */
static void turn_from(int o, int x, int y, int w, int h, int *sx, int *sy)
{
	switch (o) {
	case 2:
		*sx = w - 1 - x, *sy = y;
		break;
	case 3:
		*sx = w - 1 - x, *sy = h - 1 - y;
		break;
	case 4:
		*sx = x, *sy = h - 1 - y;
		break;
	case 5:
		*sx = y, *sy = x;
		break;
	case 6:
		*sx = y, *sy = h - 1 - x;
		break;
	case 7:
		*sx = w - 1 - y, *sy = h - 1 - x;
		break;
	case 8:
		*sx = w - 1 - y, *sy = x;
		break;
	default:
		*sx = x, *sy = y;
		break;
	}
}

/* The YUV 4:2:0 picture `src` turned upright, or NULL (no memory). */
static AVFrame *turn(const AVFrame *src, int o)
{
	AVFrame *d = av_frame_alloc();
	if (!d)
		return NULL;
	d->format = src->format;
	d->width = o >= 5 ? src->height : src->width;
	d->height = o >= 5 ? src->width : src->height;
	if (av_frame_get_buffer(d, 0) < 0) {
		av_frame_free(&d);
		return NULL;
	}
	for (int p = 0; p < 3; p++) {
		int w = p ? AV_CEIL_RSHIFT(src->width, 1) : src->width;
		int h = p ? AV_CEIL_RSHIFT(src->height, 1) : src->height;
		int dw = o >= 5 ? h : w, dh = o >= 5 ? w : h;
		for (int y = 0; y < dh; y++) {
			uint8_t *row =
				d->data[p] + (ptrdiff_t)y * d->linesize[p];
			for (int x = 0; x < dw; x++) {
				int sx, sy;
				turn_from(o, x, y, w, h, &sx, &sy);
				row[x] = src->data[p][(ptrdiff_t)sy *
							      src->linesize[p] +
						      sx];
			}
		}
	}
	return d;
}

/* --- scaling and encoding ------------------------------------------------ */

/* The JPEG-range aliases of YUV formats, which libswscale warns about:
 * the plain format and full range instead. */
static enum AVPixelFormat plain_format(enum AVPixelFormat f, int *full)
{
	switch (f) {
	case AV_PIX_FMT_YUVJ420P:
		*full = 1;
		return AV_PIX_FMT_YUV420P;
	case AV_PIX_FMT_YUVJ422P:
		*full = 1;
		return AV_PIX_FMT_YUV422P;
	case AV_PIX_FMT_YUVJ444P:
		*full = 1;
		return AV_PIX_FMT_YUV444P;
	case AV_PIX_FMT_YUVJ440P:
		*full = 1;
		return AV_PIX_FMT_YUV440P;
	case AV_PIX_FMT_YUVJ411P:
		*full = 1;
		return AV_PIX_FMT_YUV411P;
	default:
		return f;
	}
}

/* `f` scaled to w x h, YUV 4:2:0 in JPEG's full range, or NULL. */
static AVFrame *scale(struct thumbs *t, const AVFrame *f, int w, int h)
{
	int full = f->color_range == AVCOL_RANGE_JPEG;
	enum AVPixelFormat fmt = plain_format(f->format, &full);
	AVFrame *d = NULL;

	if (!sws_isSupportedInput(fmt)) {
		media_error(&t->m, "libswscale",
			    "pictures in %s are not converted",
			    av_get_pix_fmt_name(fmt) ? av_get_pix_fmt_name(fmt)
						     : "an unknown format");
		return NULL;
	}
	/* Bicubic, never SWS_FAST_BILINEAR: that one generates machine code
	 * at run time, which the sandbox (rightly) does not allow. */
	struct SwsContext *s = sws_getContext(f->width, f->height, fmt, w, h,
					      AV_PIX_FMT_YUV420P, SWS_BICUBIC,
					      NULL, NULL, NULL);
	if (!s)
		goto fail;
	int cs = f->colorspace;
	if (cs <= 0 || cs > SWS_CS_BT2020 || cs == 8)
		cs = SWS_CS_DEFAULT;
	sws_setColorspaceDetails(s, sws_getCoefficients(cs), full,
				 sws_getCoefficients(SWS_CS_ITU601), 1, 0,
				 1 << 16, 1 << 16);
	d = av_frame_alloc();
	if (!d)
		goto fail;
	d->format = AV_PIX_FMT_YUV420P;
	d->width = w;
	d->height = h;
	if (av_frame_get_buffer(d, 0) < 0 ||
	    sws_scale(s, (const uint8_t *const *)f->data, f->linesize, 0,
		      f->height, d->data, d->linesize) != h)
		goto fail;
	sws_freeContext(s);
	return d;
fail:
	media_error(&t->m, "libswscale",
		    "cannot scale a %dx%d picture to %dx%d", f->width,
		    f->height, w, h);
	av_frame_free(&d);
	sws_freeContext(s);
	return NULL;
}

/* A baseline JPEG of the 4:2:0 picture `f`, or NULL. */
static AVPacket *encode(struct thumbs *t, AVFrame *f)
{
	const AVCodec *c = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *e = c ? avcodec_alloc_context3(c) : NULL;
	AVPacket *pkt = av_packet_alloc();
	int rc = AVERROR(ENOMEM);

	if (!e || !pkt)
		goto fail;
	e->width = f->width;
	e->height = f->height;
	e->pix_fmt = AV_PIX_FMT_YUV420P;
	e->color_range = AVCOL_RANGE_JPEG;
	e->time_base = (AVRational){1, 1};
	e->thread_count = 1;
	/* A fixed quality; no "Lavc" comment (the same picture gives the
	 * same bytes). */
	e->flags |= AV_CODEC_FLAG_QSCALE | AV_CODEC_FLAG_BITEXACT;
	e->global_quality = FF_QP2LAMBDA * THUMB_QSCALE;
	f->quality = e->global_quality;
	f->pts = 0;
	f->color_range = AVCOL_RANGE_JPEG;
	if ((rc = avcodec_open2(e, c, NULL)) < 0 ||
	    (rc = avcodec_send_frame(e, f)) < 0 ||
	    (rc = avcodec_send_frame(e, NULL)) < 0 ||
	    (rc = avcodec_receive_packet(e, pkt)) < 0)
		goto fail;
	avcodec_free_context(&e);
	return pkt;
fail:
	media_error(&t->m, "libavcodec", "cannot encode a %dx%d JPEG: %s",
		    f->width, f->height, av_err2str(rc));
	av_packet_free(&pkt);
	avcodec_free_context(&e);
	return NULL;
}

/* The size a w x h picture with pixel aspect `sar` is shown at, turned by
 * orientation o, within max_width x THUMB_TALL * max_width, never larger
 * than it is. */
static void thumb_size(const struct thumbs *t, int w, int h, AVRational sar,
		       int o, int *ow, int *oh)
{
	double dw = w, dh = h;
	if (sar.num > 0 && sar.den > 0) {
		double r = av_q2d(sar);
		if (r >= 1.0 / 16 && r <= 16)
			dw *= r;
	}
	if (o >= 5) {
		double x = dw;
		dw = dh;
		dh = x;
	}
	double s = fmin(1.0, fmin(t->max_width / dw,
				  (double)t->max_width * THUMB_TALL / dh));
	*ow = (int)fmax(1, lround(dw * s));
	*oh = (int)fmax(1, lround(dh * s));
}

/* Scale, turn, encode and add one picture; `when` (seconds) < 0: no
 * time.  0, or -1 with an error said. */
static int thumb_add(struct thumbs *t, const AVFrame *f, int o, double when)
{
	int ow, oh, rc = -1;
	AVFrame *small = NULL, *up = NULL;
	AVPacket *jpeg = NULL;

	if (!size_ok(t, "libavcodec", f->width, f->height))
		return -1;
	thumb_size(t, f->width, f->height, f->sample_aspect_ratio, o, &ow, &oh);
	small = scale(t, f, o >= 5 ? oh : ow, o >= 5 ? ow : oh);
	if (!small)
		goto out;
	up = o > 1 ? turn(small, o) : small;
	if (!up) {
		media_error(&t->m, "probe", "out of memory turning a picture");
		goto out;
	}
	jpeg = encode(t, up);
	if (!jpeg)
		goto out;
	if ((size_t)jpeg->size > VAULT_THUMB_JPEG_MAX || jpeg->size < 4 ||
	    jpeg->data[0] != 0xff || jpeg->data[1] != 0xd8) {
		media_error(&t->m, "libavcodec",
			    "a %dx%d JPEG of %d bytes left out", ow, oh,
			    jpeg->size);
		goto out;
	}
	size_t b64 = sodium_base64_ENCODED_LEN((size_t)jpeg->size,
					       sodium_base64_VARIANT_ORIGINAL);
	if (b64 > t->room) {
		media_error(&t->m, "probe",
			    "thumbnails left out: the answer would be "
			    "larger than %u MiB",
			    VAULT_PROBE_DOC_MAX >> 20);
		goto out;
	}
	char *text = malloc(b64);
	if (!text)
		goto out;
	sodium_bin2base64(text, b64, jpeg->data, (size_t)jpeg->size,
			  sodium_base64_VARIANT_ORIGINAL);
	json_t *entry = json_object();
	if (when >= 0)
		json_object_set_new(entry, "time", json_real(when));
	json_object_set_new(entry, "width", json_integer(up->width));
	json_object_set_new(entry, "height", json_integer(up->height));
	json_object_set_new(entry, "jpeg", json_string(text));
	json_array_append_new(t->list, entry);
	free(text);
	t->room -= b64;
	rc = 0;
out:
	if (up != small)
		av_frame_free(&up);
	av_frame_free(&small);
	av_packet_free(&jpeg);
	return rc;
}

/* --- decoders --------------------------------------------------------------- */

/* A single-threaded software decoder for `id` (with the stream's
 * parameters, if any) that refuses pictures over the pixel limit; NULL
 * with *rc set otherwise. */
static AVCodecContext *decoder_open(enum AVCodecID id,
				    const AVCodecParameters *par, int *rc)
{
	const AVCodec *c = avcodec_find_decoder(id);
	AVCodecContext *d = c ? avcodec_alloc_context3(c) : NULL;
	AVDictionary *o = NULL;

	*rc = c ? AVERROR(ENOMEM) : AVERROR_DECODER_NOT_FOUND;
	if (!d)
		return NULL;
	if (par && (*rc = avcodec_parameters_to_context(d, par)) < 0)
		goto fail;
	/* No threads (the sandbox allows none), no hardware device. */
	av_dict_set(&o, "threads", "1", 0);
	av_dict_set_int(&o, "max_pixels", THUMB_PIXELS_MAX, 0);
	*rc = avcodec_open2(d, c, &o);
	av_dict_free(&o);
	if (*rc < 0)
		goto fail;
	return d;
fail:
	avcodec_free_context(&d);
	return NULL;
}

static AVCodecContext *decoder_for(struct thumbs *t, enum AVCodecID id,
				   const AVCodecParameters *par)
{
	int rc;
	AVCodecContext *d = decoder_open(id, par, &rc);
	if (!d)
		media_error(&t->m, "libavcodec", "cannot decode %s: %s",
			    avcodec_get_name(id), av_err2str(rc));
	return d;
}

/* --- photos ----------------------------------------------------------------- */

/* The whole file to one decoder, as one packet: JPEG (up to its end of
 * image: a motion photo's video after it is not looked at), PNG, GIF (its
 * first frame), TIFF (its first page), WebP. */
static void thumbs_still(struct thumbs *t, enum AVCodecID id)
{
	AVCodecContext *d = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	int rc = AVERROR(ENOMEM);

	if (!pkt || !f)
		goto fail;
	if (t->m.len > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE) {
		media_error(&t->m, "probe", "a %zu-byte picture is not decoded",
			    t->m.len);
		goto out;
	}
	if ((rc = av_new_packet(pkt, (int)t->m.len)) < 0)
		goto fail;
	memcpy(pkt->data, t->m.data, t->m.len);
	d = decoder_for(t, id, NULL);
	if (!d)
		goto out;
	rc = avcodec_send_packet(d, pkt);
	if (rc >= 0)
		rc = avcodec_send_packet(d, NULL);
	if (rc >= 0 || rc == AVERROR_EOF)
		rc = avcodec_receive_frame(d, f);
	if (rc < 0)
		goto fail;
	thumb_add(t, f, frame_orientation(f, NULL), -1);
	goto out;
fail:
	media_error(&t->m, "libavcodec", "cannot decode the %s picture: %s",
		    avcodec_get_name(id), av_err2str(rc));
out:
	avcodec_free_context(&d);
	av_packet_free(&pkt);
	av_frame_free(&f);
}

/* --- videos ----------------------------------------------------------------- */

struct video {
	AVFormatContext *fc;
	AVStream *st;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame, *out;
	int64_t start; /* AV_TIME_BASE units */
	int64_t at;    /* the last frame decoded (AV_TIME_BASE), or NOPTS */
	int ended;     /* the decoder was drained: seek before going on */
};

static int64_t to_us(const struct video *v, int64_t ts)
{
	return av_rescale_q(ts, v->st->time_base, AV_TIME_BASE_Q);
}

/* Take the decoder's frames; 1 once one is at or after `target` (it is in
 * v->out; the latest frame before it is there otherwise). */
static int take_frames(struct video *v, int64_t target, int *have)
{
	for (int k = 0; k < THUMB_FRAMES; k++) {
		if (avcodec_receive_frame(v->dec, v->frame) < 0)
			return 0;
		int64_t ts = v->frame->best_effort_timestamp;
		av_frame_unref(v->out);
		av_frame_move_ref(v->out, v->frame);
		*have = 1;
		v->at = ts == AV_NOPTS_VALUE ? AV_NOPTS_VALUE : to_us(v, ts);
		if (target == INT64_MIN || ts == AV_NOPTS_VALUE ||
		    v->at >= target)
			return 1;
	}
	return 0;
}

/* Decode on to the first frame at or after `target` (AV_TIME_BASE units;
 * INT64_MIN for the first frame), or the last one before the file, the
 * packet budget or the time budget ends: 1 with it in v->out, else 0.
 * `have`: v->out holds the frame decoded last, going on from it. */
static int grab(struct thumbs *t, struct video *v, int64_t target, int have)
{
	for (int reads = 0; reads < THUMB_READS && !timed_out(t); reads++) {
		if (av_read_frame(v->fc, v->pkt) < 0) {
			/* The end, or a broken file: what the decoder holds. */
			avcodec_send_packet(v->dec, NULL);
			v->ended = 1;
			take_frames(v, target, &have);
			break;
		}
		if (v->pkt->stream_index != v->st->index) {
			av_packet_unref(v->pkt);
			continue;
		}
		/* A frame before the target that nothing refers to need not
		 * be decoded: x264's B-frames, most of the frames between two
		 * key frames. */
		int64_t pts = v->pkt->pts;
		v->dec->skip_frame = target != INT64_MIN &&
						     pts != AV_NOPTS_VALUE &&
						     to_us(v, pts) < target
					     ? AVDISCARD_NONREF
					     : AVDISCARD_DEFAULT;
		int rc = avcodec_send_packet(v->dec, v->pkt);
		av_packet_unref(v->pkt);
		if (rc < 0 && rc != AVERROR(EAGAIN))
			continue; /* a broken packet: libavcodec said why */
		if (take_frames(v, target, &have))
			return 1;
	}
	return have;
}

/* Seek to the key frame at or before `target`: 0, or -1 if the file
 * cannot be sought in. */
static int seek(struct video *v, int64_t target)
{
	int64_t ts = av_rescale_q(target, AV_TIME_BASE_Q, v->st->time_base);
	if (av_seek_frame(v->fc, v->st->index, ts, AVSEEK_FLAG_BACKWARD) < 0)
		return -1;
	avcodec_flush_buffers(v->dec);
	av_frame_unref(v->out);
	v->ended = 0;
	v->at = AV_NOPTS_VALUE;
	return 0;
}

/* Whether decoding on from the last frame reaches `target` sooner than a
 * seek would: the target is ahead, and the key frame a seek would go back
 * to (the demuxer's index says which) is not after the last frame. */
static int read_on(const struct video *v, int64_t target)
{
	if (v->ended || v->at == AV_NOPTS_VALUE || v->at >= target)
		return 0;
	int64_t ts = av_rescale_q(target, AV_TIME_BASE_Q, v->st->time_base);
	int k = av_index_search_timestamp(v->st, ts, AVSEEK_FLAG_BACKWARD);
	const AVIndexEntry *e =
		k >= 0 ? avformat_index_get_entry(v->st, k) : NULL;
	return e && to_us(v, e->timestamp) <= v->at;
}

/* The frame for one thumbnail: 1 with it in v->out, else 0. */
static int frame_at(struct thumbs *t, struct video *v, int64_t target,
		    int *seekable)
{
	int going = v->out->buf[0] != NULL && !v->ended;
	/* Targets grow: a frame at or after this one that was the first
	 * after the last is the first after this one too. */
	if (v->out->buf[0] && v->at != AV_NOPTS_VALUE && v->at >= target)
		return 1;
	if (target == INT64_MIN || !*seekable || read_on(v, target))
		return grab(t, v, target, going);
	if (seek(v, target) != 0) {
		/* Read on from here: slower, as good. */
		media_warning(&t->m, "libavformat",
			      "cannot seek in this file: "
			      "frames read in order");
		*seekable = 0;
		return grab(t, v, target, going);
	}
	if (grab(t, v, target, 0))
		return 1;
	/* Seeking by time in a file without an index (MPEG-TS) may land
	 * where no key frame follows: from the start, then. */
	return seek(v, v->start) == 0 && grab(t, v, target, 0);
}

static AVStream *first_video(const AVFormatContext *fc)
{
	for (unsigned i = 0; i < fc->nb_streams; i++) {
		AVStream *st = fc->streams[i];
		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
			return st;
	}
	return NULL;
}

/* The file's start and duration (AV_TIME_BASE units), or 0 if its
 * duration is not known. */
static int video_span(const struct video *v, int64_t *dur)
{
	const AVFormatContext *fc = v->fc;
	*dur = AV_NOPTS_VALUE;
	if (fc->duration > 0)
		*dur = fc->duration;
	else if (v->st->duration > 0 && v->st->time_base.den)
		*dur = to_us(v, v->st->duration);
	return *dur != AV_NOPTS_VALUE && *dur > 0;
}

/* A frame's length (AV_TIME_BASE units), from the stream's rate; 0 if not
 * known. */
static int64_t frame_length(const struct video *v)
{
	AVRational r = av_guess_frame_rate(v->fc, v->st, NULL);
	return r.num > 0 && r.den > 0 && av_q2d(r) >= 0.1
		       ? av_rescale(AV_TIME_BASE, r.den, r.num)
		       : 0;
}

static void video_frames(struct thumbs *t, struct video *v, unsigned count)
{
	int64_t dur = 0, shown = AV_NOPTS_VALUE;
	int seekable = 1, made = 0, cut = 0;
	/* Images in a container (image2 pipes, a single picture) and
	 * streams of unknown length: one picture, the first. */
	int still = (v->fc->iformat->flags & AVFMT_NOTIMESTAMPS) ||
		    !video_span(v, &dur);

	if (still)
		count = 1;
	for (unsigned i = 0; i < count; i++) {
		int64_t target =
			still ? INT64_MIN
			      : v->start + av_rescale(dur, 2 * i + 1,
						      2 * (int64_t)count);
		if (timed_out(t)) {
			media_error(&t->m, "libavcodec",
				    "gave up after %lld s: "
				    "%d of %u thumbnails made",
				    THUMB_BUDGET / 1000000, made, count);
			return;
		}
		if (!frame_at(t, v, target, &seekable)) {
			if (still)
				media_error(&t->m, "libavcodec",
					    "no picture decoded");
			else
				media_error(&t->m, "libavcodec",
					    "no picture decoded near %.3f s",
					    (target - v->start) / 1e6);
			continue;
		}
		/* Frames that end well before the time asked for, at the end
		 * of the stream: less video than the container says. */
		if (!still && !cut && v->ended && v->at != AV_NOPTS_VALUE &&
		    v->at + 2 * frame_length(v) < target) {
			media_error(&t->m, "libavformat",
				    "the video stops at "
				    "%.3f s of the %.3f s its container gives",
				    (v->at - v->start) / 1e6, dur / 1e6);
			cut = 1;
		}
		int64_t ts = v->out->best_effort_timestamp;
		if (ts != AV_NOPTS_VALUE && ts == shown)
			continue; /* the frame shown last: no new picture */
		shown = ts;
		double when =
			ts == AV_NOPTS_VALUE || still
				? -1
				: fmax(0, (to_us(v, ts) - v->start) / 1e6);
		if (thumb_add(t, v->out, frame_orientation(v->out, v->st),
			      when) == 0)
			made++;
	}
}

static void thumbs_video(struct thumbs *t, unsigned count)
{
	media_av_file *af = NULL;
	struct video v = {0};
	int rc = media_av_open(&t->m, THUMB_BUDGET, &af, &v.fc);
	int opened = rc >= 0;

	if (!opened)
		goto out;
	media_av_find_streams(v.fc);
	v.st = first_video(v.fc);
	if (!v.st) {
		media_error(&t->m, "libavformat", "no video stream");
		goto out;
	}
	const AVCodecParameters *par = v.st->codecpar;
	if (par->width > 0 && par->height > 0 &&
	    !size_ok(t, "libavformat", par->width, par->height))
		goto out;
	for (unsigned i = 0; i < v.fc->nb_streams; i++)
		v.fc->streams[i]->discard = v.fc->streams[i] == v.st
						    ? AVDISCARD_DEFAULT
						    : AVDISCARD_ALL;
	v.dec = decoder_for(t, par->codec_id, par);
	v.pkt = av_packet_alloc();
	v.frame = av_frame_alloc();
	v.out = av_frame_alloc();
	if (!v.dec || !v.pkt || !v.frame || !v.out)
		goto out;
	v.at = AV_NOPTS_VALUE;
	v.start = v.fc->start_time != AV_NOPTS_VALUE ? v.fc->start_time
		  : v.st->start_time != AV_NOPTS_VALUE
			  ? to_us(&v, v.st->start_time)
			  : 0;
	video_frames(t, &v, count);
out:
	avcodec_free_context(&v.dec);
	av_packet_free(&v.pkt);
	av_frame_free(&v.frame);
	av_frame_free(&v.out);
	if (!opened)
		t->av_open_rc = rc;
	media_av_close(af);
}

/* --- HEIF ------------------------------------------------------------------- */

/* libheif's decoder plugins for HEVC and AV1, both libavcodec: libheif
 * hands one the coded data of one image or grid tile, its parameter sets
 * first, and takes back the decoded planes.  HEVC comes as NAL units with
 * 4-byte big-endian lengths (as libheif's own plugin reads them); the
 * decoder gets them with start codes.  AV1 comes as OBUs, as is. */
#define HEIF_CODED_MAX (256u << 20)

struct heif_av {
	enum AVCodecID id;
	uint8_t *buf;
	size_t len, cap;
};

static struct heif_error heif_fail(enum heif_error_code code, const char *why)
{
	return (struct heif_error){code, heif_suberror_Unspecified, why};
}

static const struct heif_error heif_ok = {heif_error_Ok,
					  heif_suberror_Unspecified, "Success"};

static int heif_av_put(struct heif_av *h, const void *p, size_t n)
{
	if (n > HEIF_CODED_MAX - h->len)
		return -1;
	if (h->len + n > h->cap) {
		size_t cap = h->len + n < HEIF_CODED_MAX / 2 ? (h->len + n) * 2
							     : HEIF_CODED_MAX;
		uint8_t *b = realloc(h->buf, cap);
		if (!b)
			return -1;
		h->buf = b;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
	return 0;
}

static struct heif_error heif_av_new(void **out, enum AVCodecID id)
{
	struct heif_av *h = calloc(1, sizeof *h);
	if (!h)
		return heif_fail(heif_error_Memory_allocation_error,
				 "out of memory");
	h->id = id;
	*out = h;
	return heif_ok;
}

static struct heif_error heif_av_new_hevc(void **out)
{
	return heif_av_new(out, AV_CODEC_ID_HEVC);
}

static struct heif_error heif_av_new_av1(void **out)
{
	return heif_av_new(out, AV_CODEC_ID_AV1);
}

static void heif_av_free(void *d)
{
	struct heif_av *h = d;
	if (h)
		free(h->buf);
	free(h);
}

static struct heif_error heif_av_push(void *d, const void *data, size_t size)
{
	static const uint8_t start[4] = {0, 0, 0, 1};
	struct heif_av *h = d;
	const uint8_t *p = data;

	if (h->id != AV_CODEC_ID_HEVC) {
		if (heif_av_put(h, p, size))
			return heif_fail(heif_error_Memory_allocation_error,
					 "coded image too large");
		return heif_ok;
	}
	while (size) {
		if (size < 4)
			return heif_fail(heif_error_Decoder_plugin_error,
					 "truncated NAL unit length");
		uint32_t n = media_be32(p);
		p += 4;
		size -= 4;
		if (n > size)
			return heif_fail(heif_error_Decoder_plugin_error,
					 "NAL unit runs past the image data");
		if (heif_av_put(h, start, sizeof start) || heif_av_put(h, p, n))
			return heif_fail(heif_error_Memory_allocation_error,
					 "coded image too large");
		p += n;
		size -= n;
	}
	return heif_ok;
}

static void heif_av_strict(void *d, int flag)
{
	(void)d, (void)flag;
}

/* The decoded frame as libheif's image: YCbCr 4:2:0, 4:2:2, 4:4:4 or
 * monochrome, 8 to 16 bits (wider samples native-endian 16-bit, as
 * libavcodec's LE formats are here). */
static struct heif_error heif_av_image(const AVFrame *f,
				       struct heif_image **out)
{
	int full = f->color_range == AVCOL_RANGE_JPEG;
	enum AVPixelFormat fmt = plain_format(f->format, &full);
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
	struct heif_image *img = NULL;
	enum heif_chroma chroma;
	int bad =
		!d ||
		(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL |
			     AV_PIX_FMT_FLAG_BE | AV_PIX_FMT_FLAG_HWACCEL |
			     AV_PIX_FMT_FLAG_ALPHA | AV_PIX_FMT_FLAG_BAYER)) ||
		(d->nb_components != 1 && d->nb_components != 3) ||
		d->comp[0].depth > 16;
	/* One plane per component, samples of one or two bytes. */
	int bits = bad ? 0 : d->comp[0].depth, bytes = bits > 8 ? 2 : 1;
	for (int p = 0; !bad && p < d->nb_components; p++)
		bad = d->comp[p].plane != p || d->comp[p].step != bytes ||
		      d->comp[p].offset != 0;
	if (bad)
		return heif_fail(
			heif_error_Unsupported_feature,
			"decoded picture in an unexpected pixel format");
	if (d->nb_components == 1)
		chroma = heif_chroma_monochrome;
	else if (d->log2_chroma_w == 1 && d->log2_chroma_h == 1)
		chroma = heif_chroma_420;
	else if (d->log2_chroma_w == 1 && d->log2_chroma_h == 0)
		chroma = heif_chroma_422;
	else if (d->log2_chroma_w == 0 && d->log2_chroma_h == 0)
		chroma = heif_chroma_444;
	else
		return heif_fail(heif_error_Unsupported_feature,
				 "decoded picture with unexpected chroma");
	struct heif_error e =
		heif_image_create(f->width, f->height,
				  d->nb_components == 1
					  ? heif_colorspace_monochrome
					  : heif_colorspace_YCbCr,
				  chroma, &img);
	static const enum heif_channel ch[3] = {heif_channel_Y, heif_channel_Cb,
						heif_channel_Cr};
	for (int p = 0; e.code == heif_error_Ok && p < d->nb_components; p++) {
		int w = p ? AV_CEIL_RSHIFT(f->width, d->log2_chroma_w)
			  : f->width;
		int h = p ? AV_CEIL_RSHIFT(f->height, d->log2_chroma_h)
			  : f->height;
		e = heif_image_add_plane(img, ch[p], w, h, bits);
		if (e.code != heif_error_Ok)
			break;
		int stride;
		uint8_t *dst = heif_image_get_plane(img, ch[p], &stride);
		if (!dst || stride < w * bytes) {
			e = heif_fail(heif_error_Memory_allocation_error,
				      "no image plane");
			break;
		}
		for (int y = 0; y < h; y++)
			memcpy(dst + (ptrdiff_t)y * stride,
			       f->data[p] + (ptrdiff_t)y * f->linesize[p],
			       (size_t)w * bytes);
	}
	if (e.code == heif_error_Ok && d->nb_components == 3) {
		/* What the bitstream says of its colours; the file's own
		 * colour box, when it has one, takes precedence in libheif. */
		struct heif_color_profile_nclx *n =
			heif_nclx_color_profile_alloc();
		if (n) {
			if (f->color_primaries != AVCOL_PRI_UNSPECIFIED)
				heif_nclx_color_profile_set_color_primaries(
					n, (uint16_t)f->color_primaries);
			if (f->color_trc != AVCOL_TRC_UNSPECIFIED)
				heif_nclx_color_profile_set_transfer_characteristics(
					n, (uint16_t)f->color_trc);
			if (f->colorspace != AVCOL_SPC_UNSPECIFIED)
				heif_nclx_color_profile_set_matrix_coefficients(
					n, (uint16_t)f->colorspace);
			n->full_range_flag = (uint8_t)full;
			heif_image_set_nclx_color_profile(img, n);
			heif_nclx_color_profile_free(n);
		}
	}
	if (e.code != heif_error_Ok) {
		heif_image_release(img);
		return e;
	}
	*out = img;
	return heif_ok;
}

static struct heif_error heif_av_decode(void *dec, struct heif_image **out)
{
	struct heif_av *h = dec;
	AVCodecContext *d = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	struct heif_error e = heif_fail(heif_error_Decoder_plugin_error,
					"libavcodec decoded no picture");
	int rc;

	if (!pkt || !f || h->len > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE ||
	    av_new_packet(pkt, (int)h->len) < 0) {
		e = heif_fail(heif_error_Memory_allocation_error,
			      "out of memory");
		goto out;
	}
	if (h->len)
		memcpy(pkt->data, h->buf, h->len);
	d = decoder_open(h->id, NULL, &rc);
	if (!d) {
		e = heif_fail(heif_error_Unsupported_feature,
			      "libavcodec cannot decode this codec");
		goto out;
	}
	rc = avcodec_send_packet(d, pkt);
	if (rc >= 0)
		rc = avcodec_send_packet(d, NULL);
	if ((rc >= 0 || rc == AVERROR_EOF) && avcodec_receive_frame(d, f) >= 0)
		e = heif_av_image(f, out);
out:
	avcodec_free_context(&d);
	av_packet_free(&pkt);
	av_frame_free(&f);
	return e;
}

static const char *heif_av_name(void)
{
	return "evault: libavcodec, single-threaded";
}

/* Above every decoder libheif has (libde265 100, dav1d 150, aom 100). */
#define HEIF_AV_PRIORITY 1000

static int heif_av_hevc(enum heif_compression_format f)
{
	return f == heif_compression_HEVC ? HEIF_AV_PRIORITY : 0;
}

static int heif_av_av1(enum heif_compression_format f)
{
	return f == heif_compression_AV1 ? HEIF_AV_PRIORITY : 0;
}

static const struct heif_decoder_plugin heif_av_plugins[2] = {
	{
		.plugin_api_version = 3,
		.get_plugin_name = heif_av_name,
		.does_support_format = heif_av_hevc,
		.new_decoder = heif_av_new_hevc,
		.free_decoder = heif_av_free,
		.push_data = heif_av_push,
		.decode_image = heif_av_decode,
		.set_strict_decoding = heif_av_strict,
		.id_name = "evault-hevc",
	},
	{
		.plugin_api_version = 3,
		.get_plugin_name = heif_av_name,
		.does_support_format = heif_av_av1,
		.new_decoder = heif_av_new_av1,
		.free_decoder = heif_av_free,
		.push_data = heif_av_push,
		.decode_image = heif_av_decode,
		.set_strict_decoding = heif_av_strict,
		.id_name = "evault-av1",
	},
};

static int heif_av_ready; /* both plugins registered */

void media_thumbs_init(void)
{
	int ok = 1;
	for (int i = 0; i < 2; i++)
		ok &= heif_register_decoder_plugin(&heif_av_plugins[i]).code ==
		      heif_error_Ok;
	heif_av_ready = ok;
}

static void thumbs_heif(struct thumbs *t)
{
	struct heif_context *ctx = heif_context_alloc();
	struct heif_image_handle *h = NULL;
	struct heif_image *img = NULL;
	struct heif_decoding_options *opt = heif_decoding_options_alloc();
	AVFrame *f = av_frame_alloc();
	struct heif_error e;

	if (!heif_av_ready) {
		/* libheif's own decoders would start threads: the sandbox
		 * would stop the probe. */
		media_error(&t->m, "libheif", "no single-threaded decoder");
		goto out;
	}
	if (!ctx || !opt || !f) {
		media_error(&t->m, "probe", "out of memory");
		goto out;
	}
	/* Grid tiles decoded one after the other, in this thread. */
	heif_context_set_max_decoding_threads(ctx, 0);
	heif_context_set_maximum_image_size_limit(ctx, THUMB_SIDE_MAX);
	e = heif_context_read_from_memory_without_copy(ctx, t->m.data, t->m.len,
						       NULL);
	if (e.code == heif_error_Ok)
		e = heif_context_get_primary_image_handle(ctx, &h);
	if (e.code != heif_error_Ok)
		goto fail;
	if (!size_ok(t, "libheif", heif_image_handle_get_width(h),
		     heif_image_handle_get_height(h)))
		goto out;
	opt->convert_hdr_to_8bit = 1;
	e = heif_decode_image(h, &img, heif_colorspace_RGB,
			      heif_chroma_interleaved_RGB, opt);
	if (e.code != heif_error_Ok)
		goto fail;
	int stride;
	const uint8_t *rgb =
		heif_image_get_plane_readonly(img, heif_channel_interleaved,
					      &stride);
	f->width = heif_image_get_width(img, heif_channel_interleaved);
	f->height = heif_image_get_height(img, heif_channel_interleaved);
	if (!rgb || stride < f->width * 3) {
		media_error(&t->m, "libheif", "decoded no picture");
		goto out;
	}
	f->format = AV_PIX_FMT_RGB24;
	f->data[0] = (uint8_t *)rgb;
	f->linesize[0] = stride;
	/* libheif has turned it already (irot, imir). */
	thumb_add(t, f, 1, -1);
	goto out;
fail:
	media_error(&t->m, "libheif", "%s", e.message ? e.message : "error");
out:
	av_frame_free(&f); /* data not its own: only the frame goes */
	heif_image_release(img);
	heif_image_handle_release(h);
	heif_decoding_options_free(opt);
	heif_context_free(ctx);
}

/* --- one request --------------------------------------------------------- */

json_t *media_thumbs(const uint8_t *data, size_t len, unsigned count,
		     unsigned max_width)
{
	static const struct {
		const char *type;
		enum AVCodecID id;
	} stills[] = {
		{"image/jpeg", AV_CODEC_ID_MJPEG},
		{"image/png", AV_CODEC_ID_PNG},
		{"image/gif", AV_CODEC_ID_GIF},
		{"image/tiff", AV_CODEC_ID_TIFF},
		{"image/webp", AV_CODEC_ID_WEBP},
	};
	char type[48];
	struct thumbs t = {
		.m = {.data = data,
		      .len = len,
		      .type = type,
		      .errors = json_array(),
		      .warnings = json_array()},
		.list = json_array(),
		.max_width = max_width,
		.room = VAULT_PROBE_DOC_MAX - THUMB_DOC_SPARE,
		.deadline = av_gettime_relative() + THUMB_BUDGET,
	};
	size_t i;

	sniff_type(data, len, type);
	media_avlog_begin();
	for (i = 0; i < sizeof stills / sizeof stills[0]; i++)
		if (!strcmp(type, stills[i].type))
			break;
	if (!len)
		media_error(&t.m, "probe", "an empty file");
	else if (i < sizeof stills / sizeof stills[0])
		thumbs_still(&t, stills[i].id);
	else if (!strcmp(type, "image/heif") || !strcmp(type, "image/avif"))
		thumbs_heif(&t);
	else
		thumbs_video(&t, count);
	/* What libavformat logged is why it could not open the file, if it
	 * could not; else what the decoders complained about on the way. */
	media_avlog_end(&t.m, !t.av_open_rc);
	if (t.av_open_rc && !json_array_size(t.m.errors))
		media_error(&t.m, "libavformat", "%s",
			    t.av_open_rc == AVERROR_EXIT
				    ? "gave up: the file took too long to read"
				    : av_err2str(t.av_open_rc));

	json_t *doc = json_object();
	json_object_set_new(doc, "v", json_integer(1));
	json_object_set_new(doc, "thumbnails", t.list);
	json_object_set_new(doc, "errors", t.m.errors);
	json_object_set_new(doc, "warnings", t.m.warnings);
	return doc;
}
