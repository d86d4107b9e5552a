// Prints the image kinds table, one tab-separated line per kind, for
// check-wire-compat.py: name magic prefix crit_knows desc head_desc file_fmt.
#include <cstdio>

#include "images/kinds.h"

int main()
{
	using namespace criu::img;
	for (const KindInfo &k : all_kinds()) {
		const char *prefix = k.prefix == MagicPrefix::Common    ? "common"
				     : k.prefix == MagicPrefix::Service ? "service"
									: "none";
		printf("%s\t%u\t%s\t%d\t%s\t%s\t%s\n", k.name, k.magic, prefix, k.criu_crit_knows ? 1 : 0,
		       k.desc ? k.desc->name : "-", k.head_desc ? k.head_desc->name : "-", k.file_fmt);
	}
	return 0;
}
