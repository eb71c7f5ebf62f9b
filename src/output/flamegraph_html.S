/*
 * flamegraph_html.S — the flame graph page (flamegraph.html) linked into
 * strobe as read-only bytes, so the binary needs no files at run time.
 * flamegraph.c declares the two symbols: the bytes and their length.
 */
    .section .rodata
    .global strobe_flamegraph_html
    .global strobe_flamegraph_html_size
strobe_flamegraph_html:
    .incbin "src/output/flamegraph.html"
strobe_flamegraph_html_end:
    .byte 0
    .balign 8
strobe_flamegraph_html_size:
    .quad strobe_flamegraph_html_end - strobe_flamegraph_html
    .section .note.GNU-stack,"",@progbits
