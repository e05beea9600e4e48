/*
 * heif.c: HEIC/HEIF/AVIF photos through libheif (FFmpeg 5.1 cannot open
 * them).  Only the container is read, never a picture decoded: the
 * primary image's size, and its metadata blocks kept byte-exact in
 * doc.segments, EXIF passed on to libexif and XMP to xmp.c.
 */
#include <stdlib.h>
#include <string.h>

#include <libheif/heif.h>

#include "vault/media/media.h"

/* Largest metadata block read (EXIF and XMP are far smaller). */
#define HEIF_BLOCK_MAX (16u << 20)

void media_heif_init(void)
{
	/* Loads libheif's plugins: must happen before the sandbox. */
	heif_init(NULL);
}

static void blocks(media_ctx *m, struct heif_image_handle *h)
{
	int n = heif_image_handle_get_number_of_metadata_blocks(h, NULL);
	if (n <= 0)
		return;
	if (n > 64)
		n = 64;
	heif_item_id ids[64];
	n = heif_image_handle_get_list_of_metadata_block_IDs(h, NULL, ids, n);
	for (int i = 0; i < n; i++) {
		const char *type = heif_image_handle_get_metadata_type(h, ids[i]);
		const char *ct = heif_image_handle_get_metadata_content_type(h, ids[i]);
		size_t size = heif_image_handle_get_metadata_size(h, ids[i]);
		if (!type || size == 0 || size > HEIF_BLOCK_MAX) {
			media_warning(m, "libheif", "metadata block %u of %zu bytes "
				      "skipped", (unsigned)ids[i], size);
			continue;
		}
		uint8_t *b = malloc(size);
		if (!b)
			continue;
		struct heif_error e = heif_image_handle_get_metadata(h, ids[i], b);
		if (e.code != heif_error_Ok) {
			media_error(m, "libheif", "%s", e.message);
		} else if (!strcmp(type, "Exif")) {
			media_segment(m, "exif", "Exif item", b, size);
			/* 4 bytes: offset from there to the TIFF header. */
			uint32_t skip = size >= 4 ? media_be32(b) : UINT32_MAX;
			if (size >= 4 && skip <= size - 4)
				media_exif(m, b + 4 + skip, size - 4 - skip, "Exif item");
			else
				media_error(m, "libheif", "EXIF block with a bad "
					    "header offset");
		} else if (ct && !strcmp(ct, "application/rdf+xml")) {
			media_segment(m, "xmp", "mime item", b, size);
			media_xmp(m, b, size);
		} else {
			media_segment(m, "other", type, b, size);
		}
		free(b);
	}
}

void media_heif(media_ctx *m)
{
	struct heif_context *ctx = heif_context_alloc();
	if (!ctx)
		return;
	json_t *img = json_object();
	json_object_set_new(m->doc, "image", img);
	json_object_set_new(img, "format", json_string("heif"));
	struct heif_error e =
		heif_context_read_from_memory_without_copy(ctx, m->data, m->len, NULL);
	struct heif_image_handle *h = NULL;
	if (e.code == heif_error_Ok)
		e = heif_context_get_primary_image_handle(ctx, &h);
	if (e.code != heif_error_Ok) {
		media_error(m, "libheif", "%s", e.message);
		heif_context_free(ctx);
		return;
	}
	int w = heif_image_handle_get_ispe_width(h);
	int hh = heif_image_handle_get_ispe_height(h);
	json_object_set_new(img, "width", json_integer(w));
	json_object_set_new(img, "height", json_integer(hh));
	json_object_set_new(img, "images",
			    json_integer(heif_context_get_number_of_top_level_images(ctx)));
	json_object_set_new(img, "has_alpha",
			    json_boolean(heif_image_handle_has_alpha_channel(h)));
	json_object_set_new(img, "depth_images",
			    json_integer(heif_image_handle_get_number_of_depth_images(h)));
	json_t *c = media_cand(m, "image");
	json_object_set_new(c, "width", json_integer(w));
	json_object_set_new(c, "height", json_integer(hh));
	json_object_set_new(c, "container", json_string("heif"));
	blocks(m, h);
	heif_image_handle_release(h);
	heif_context_free(ctx);
}
