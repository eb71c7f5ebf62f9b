/*
 * protobuf.c — see protobuf.h.
 */
#include "output/protobuf.h"

#include <stdlib.h>
#include <string.h>

enum pb_wire_type { PB_VARINT = 0, PB_LENGTH_DELIMITED = 2 };
#define PB_VARINT_MAX 10    /* bytes of a 64-bit varint */

void pb_free(struct pb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void pb_varint(struct pb_buf *b, uint64_t v)
{
    b->data = xgrow(b->data, &b->cap, b->len + PB_VARINT_MAX, 1);
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        b->data[b->len++] = byte | (v ? 0x80 : 0);
    } while (v);
}

static void put_key(struct pb_buf *b, uint32_t field, enum pb_wire_type type)
{
    pb_varint(b, (uint64_t)field << 3 | type);
}

void pb_uint(struct pb_buf *b, uint32_t field, uint64_t value)
{
    if (!value)
        return;
    put_key(b, field, PB_VARINT);
    pb_varint(b, value);
}

void pb_bytes(struct pb_buf *b, uint32_t field, const void *data, size_t len)
{
    put_key(b, field, PB_LENGTH_DELIMITED);
    pb_varint(b, len);
    b->data = xgrow(b->data, &b->cap, b->len + len, 1);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
}

void pb_message(struct pb_buf *b, uint32_t field, const struct pb_buf *message)
{
    pb_bytes(b, field, message->data, message->len);
}

void pb_packed(struct pb_buf *b, uint32_t field, const uint64_t *values, size_t n,
               struct pb_buf *scratch)
{
    pb_reset(scratch);
    for (size_t i = 0; i < n; i++)
        pb_varint(scratch, values[i]);
    pb_message(b, field, scratch);
}
