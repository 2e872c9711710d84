/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the scw config file parser (libyaml underneath),
 * through the real entry point, with the file in a memfd.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "scwcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("scwcfg", 0);
	char path[64], err[512];
	const char *env[] = {path, "HOME=/nonexistent", NULL};
	const char *profiles[] = {NULL, "prod", "default"};
	struct scw_settings *s = NULL;

	if (fd < 0)
		return 0;
	log_setup(LOGL_ERROR, false);
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "SCW_CONFIG_PATH=/proc/self/fd/%d", fd);
	for (int p = 0; p < 3; p++) {
		if (scwcfg_load(profiles[p], env, &s, err, sizeof err) == 0) {
			if (!s->secret_key || !s->api_url)
				abort();
			scwcfg_free(s);
			s = NULL;
		}
	}
	close(fd);
	return 0;
}
