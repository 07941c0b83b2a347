/* SPDX-License-Identifier: GPL-2.0-only */
/* test_msgframe.c - NUL framing: split messages, partial reads, size limit */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msgframe.h"
#include "testlib.h"

int main(void)
{
        struct msgframe f;
        char *msg;
        size_t len;
        int sv[2], r;
        char big[300];

        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);

        /* Two messages and a partial third in one read. */
        msgframe_init(&f, 100);
        CHECK(write_full(sv[0], "{\"a\":1}\0{\"b\":2}\0{\"c\"", 20) == 0);
        CHECK(msgframe_fill(&f, sv[1]) == 20);
        CHECK(msgframe_next(&f, &msg, &len) == 1);
        CHECK_STREQ(msg, "{\"a\":1}");
        CHECK_INTEQ(len, 7);
        CHECK(msgframe_next(&f, &msg, &len) == 1);
        CHECK_STREQ(msg, "{\"b\":2}");
        CHECK(msgframe_next(&f, &msg, &len) == 0);
        /* The rest arrives later. */
        CHECK(write_full(sv[0], ":3}\0", 4) == 0);
        CHECK(msgframe_fill(&f, sv[1]) == 4);
        CHECK(msgframe_next(&f, &msg, &len) == 1);
        CHECK_STREQ(msg, "{\"c\":3}");
        CHECK(msgframe_next(&f, &msg, &len) == 0);

        /* A message over the limit is reported even before its NUL arrives. */
        memset(big, 'x', sizeof(big));
        CHECK(write_full(sv[0], big, sizeof(big)) == 0);
        CHECK(msgframe_fill(&f, sv[1]) > 0);
        r = msgframe_next(&f, &msg, &len);
        CHECK_INTEQ(r, -EMSGSIZE);
        msgframe_done(&f);

        /* A message exactly at the limit is accepted. */
        msgframe_init(&f, 10);
        CHECK(write_full(sv[0], "0123456789\0", 11) == 0);
        CHECK(msgframe_fill(&f, sv[1]) == 11);
        CHECK(msgframe_next(&f, &msg, &len) == 1);
        CHECK_INTEQ(len, 10);
        /* End of stream. */
        close(sv[0]);
        CHECK(msgframe_fill(&f, sv[1]) == 0);
        CHECK(f.eof);
        msgframe_done(&f);
        close(sv[1]);
        return TEST_DONE();
}
