/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ops: the libfuse low-level operations of interlinkfs.
 *
 * Thread-safety: the table is constant; its operations run on libfuse's
 * threads at the same time.
 */
#ifndef INTERLINKFS_OPS_H
#define INTERLINKFS_OPS_H

#include <fuse_lowlevel.h>

/* The operations table for fuse_session_new(); the userdata is the
 * mount's struct ifs. */
const struct fuse_lowlevel_ops *ops_table(void);

#endif
