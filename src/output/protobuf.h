/*
 * protobuf.h — just enough of the protocol buffers wire format to write a
 * message: varints, length-delimited fields and packed repeated integers.
 *
 * A message is built in a growable buffer; a nested message is built in a
 * buffer of its own and then added to its parent as bytes, which is how
 * its length prefix becomes known.
 */
#ifndef STROBE_OUTPUT_PROTOBUF_H
#define STROBE_OUTPUT_PROTOBUF_H

#include "base/common.h"

struct pb_buf {
    uint8_t *data;
    size_t len, cap;
};

void pb_free(struct pb_buf *b);
static inline void pb_reset(struct pb_buf *b)
{
    b->len = 0;
}

/* A bare varint (unsigned LEB128), no field key: also the integer
 * encoding of strobe's recordings. */
void pb_varint(struct pb_buf *b, uint64_t v);

/* A varint field; zero values are left out, as proto3 does. */
void pb_uint(struct pb_buf *b, uint32_t field, uint64_t value);
/* A length-delimited field: bytes, a string or an embedded message. */
void pb_bytes(struct pb_buf *b, uint32_t field, const void *data, size_t len);
void pb_message(struct pb_buf *b, uint32_t field, const struct pb_buf *message);
/* A packed repeated varint field from n values. */
void pb_packed(struct pb_buf *b, uint32_t field, const uint64_t *values, size_t n,
               struct pb_buf *scratch);

#endif
