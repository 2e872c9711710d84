/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wiring: the cache of each kind of object: its loaders, which turn what
 * the API sends into rendered objects (robj.h) as each page arrives, and
 * its callbacks, which tell the kernel (through the keeper) what a change
 * means, and the journal (through the state, which saves it), and the
 * tables what a listing brought.
 *
 * Thread-safety: wiring_kind_new() and wiring_kind_free() are called by
 * fs.c alone; the loaders and callbacks run on any thread the cache
 * chooses.
 */
#ifndef INTERLINKFS_WIRING_H
#define INTERLINKFS_WIRING_H

#include "kinds.h"

struct ifs;
struct kstate;

/* fs's state of kind k, with its cache: 0 or -errno (what was made is
 * freed by wiring_kind_free). */
int wiring_kind_new(struct ifs *fs, enum kind_id k);
/* Frees what wiring_kind_new made; a state never made is fine. */
void wiring_kind_free(struct kstate *ks);

#endif
