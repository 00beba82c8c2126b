/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the parts of lib's iomem code share (iomem*.c): not for tests.
 */
#ifndef IOPIN_IOMEM_INT_H
#define IOPIN_IOMEM_INT_H

#include <stdbool.h>

#include "iomem.h"

/* Is environment variable name set to value? */
bool iomem_env_is(const char *name, const char *value);
/* The device named with --pci (IOPIN_PCI_BDF), or NULL. */
const char *iomem_named_bdf(void);

#endif
