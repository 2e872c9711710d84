/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dir: readdir and readdirplus of every directory.
 *
 * Thread-safety: may be called from any of libfuse's threads.
 */
#ifndef INTERLINKFS_DIR_H
#define INTERLINKFS_DIR_H

#include <stdbool.h>

#include <fuse_lowlevel.h>

/* Answers a readdir (plus: readdirplus) of inode ino. */
void dir_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 bool plus);

#endif
