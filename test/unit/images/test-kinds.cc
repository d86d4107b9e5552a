#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

#include "images/kinds.h"

using namespace criu::img;

namespace {

// Kinds that share CRIU's magic and name with an earlier kind.
const std::set<Kind> kAliases = {Kind::ShmemPagemap, Kind::SignalPrivate, Kind::StatsRestore};

} // namespace

TEST_CASE("every kind has sane info, in Kind order")
{
	auto kinds = all_kinds();
	REQUIRE(kinds.size() == size_t(Kind::PageTags) + 1);
	for (size_t i = 0; i < kinds.size(); i++) {
		const KindInfo &k = kinds[i];
		INFO(k.name);
		CHECK(size_t(k.kind) == i);
		CHECK(&info(k.kind) == &k);
		CHECK(std::string(k.name).size() > 1);
		std::string fmt = k.file_fmt;
		CHECK(fmt.find('/') == fmt.npos);
		CHECK(fmt.find('%') == fmt.rfind('%'));
		bool service = k.prefix == MagicPrefix::Service;
		CHECK((fmt.ends_with(".img") || service));
		if (k.magic == 0) {
			CHECK(k.prefix == MagicPrefix::None);
			CHECK(k.desc == nullptr);
		} else {
			CHECK(k.desc != nullptr);
			CHECK(k.magic != kImgCommonMagic);
			CHECK(k.magic != kImgServiceMagic);
		}
		CHECK((k.head_desc != nullptr) == (k.extra == Extra::Pagemap));
	}
	CHECK(info(Kind::Inventory).prefix == MagicPrefix::None);
	CHECK(info(Kind::StatsDump).prefix == MagicPrefix::Service);
	CHECK(info(Kind::Core).prefix == MagicPrefix::Common);
	CHECK(info(Kind::Pages).magic == 0);
	CHECK_FALSE(info(Kind::Pages).criu_crit_knows);
	CHECK_FALSE(info(Kind::Cipher).criu_crit_knows);
	CHECK_FALSE(info(Kind::PageTags).criu_crit_knows);
	CHECK(info(Kind::Cipher).prefix == MagicPrefix::Common);
	CHECK(info(Kind::PageTags).prefix == MagicPrefix::Common);
}

TEST_CASE("magics and names are unique except for CRIU's own aliases")
{
	std::map<uint32_t, Kind> magics;
	std::map<std::string, Kind> names;
	std::set<std::string> files;
	for (const KindInfo &k : all_kinds()) {
		INFO(k.file_fmt);
		CHECK(files.insert(k.file_fmt).second);
		bool alias = kAliases.contains(k.kind);
		bool new_name = names.emplace(k.name, k.kind).second;
		CHECK(new_name != alias);
		if (k.magic == 0)
			continue;
		bool new_magic = magics.emplace(k.magic, k.kind).second;
		CHECK(new_magic != alias);
	}
	CHECK(info(Kind::ShmemPagemap).magic == info(Kind::Pagemap).magic);
	CHECK(info(Kind::SignalPrivate).magic == info(Kind::SignalShared).magic);
	CHECK(info(Kind::StatsRestore).magic == info(Kind::StatsDump).magic);
}

TEST_CASE("find_by_magic and find_by_name round-trip")
{
	for (const KindInfo &k : all_kinds()) {
		INFO(k.file_fmt);
		const KindInfo *by_name = find_by_name(k.name);
		REQUIRE(by_name);
		CHECK(std::string(by_name->name) == k.name);
		if (!kAliases.contains(k.kind))
			CHECK(by_name == &k);
		if (k.magic == 0)
			continue;
		const KindInfo *by_magic = find_by_magic(k.magic);
		REQUIRE(by_magic);
		CHECK(by_magic->magic == k.magic);
		CHECK(by_magic->desc == k.desc);
		if (!kAliases.contains(k.kind))
			CHECK(by_magic == &k);
	}
	CHECK(find_by_name("CORE") == &info(Kind::Core));
	CHECK(find_by_name("SIGNAL") == &info(Kind::SignalShared));
	CHECK(find_by_name("core") == nullptr);
	CHECK(find_by_name("") == nullptr);
	CHECK(find_by_magic(0x55053847) == &info(Kind::Core));
	CHECK(find_by_magic(0) == nullptr);
	CHECK(find_by_magic(kImgCommonMagic) == nullptr);
	CHECK(find_by_magic(kImgServiceMagic) == nullptr);
	CHECK(find_by_magic(0xdeadbeef) == nullptr);
}

TEST_CASE("file_name formats ids as CRIU does")
{
	CHECK(file_name(Kind::Inventory, 0) == "inventory.img");
	CHECK(file_name(Kind::Inventory, 7) == "inventory.img");
	CHECK(file_name(Kind::Core, 42) == "core-42.img");
	CHECK(file_name(Kind::Core, 4294967295u) == "core-4294967295.img");
	CHECK(file_name(Kind::Pagemap, 1) == "pagemap-1.img");
	CHECK(file_name(Kind::ShmemPagemap, 123456789012ull) == "pagemap-shmem-123456789012.img");
	CHECK(file_name(Kind::Pages, 3) == "pages-3.img");
	CHECK(file_name(Kind::GhostFile, 26) == "ghost-file-1a.img");
	CHECK(file_name(Kind::GhostFile, 0xdeadbeef) == "ghost-file-deadbeef.img");
	CHECK(file_name(Kind::SignalShared, 5) == "signal-s-5.img");
	CHECK(file_name(Kind::SignalPrivate, 5) == "signal-p-5.img");
	CHECK(file_name(Kind::StatsDump) == "stats-dump");
	CHECK(file_name(Kind::StatsRestore) == "stats-restore");
	CHECK(file_name(Kind::Cipher) == "cipher.img");
	CHECK(file_name(Kind::PageTags, 9) == "pagetags-9.img");
	CHECK(file_name(Kind::TtyFiles) == "tty.img");
	CHECK(file_name(Kind::MemfdInode) == "memfd.img");
}

TEST_CASE("entry descriptors are CRIU's messages")
{
	CHECK(std::string(info(Kind::Core).desc->name) == "core_entry");
	CHECK(std::string(info(Kind::Ids).desc->name) == "task_kobj_ids_entry");
	CHECK(std::string(info(Kind::Pagemap).head_desc->name) == "pagemap_head");
	CHECK(std::string(info(Kind::Pagemap).desc->name) == "pagemap_entry");
	CHECK(std::string(info(Kind::FifoData).desc->name) == "pipe_data_entry");
	CHECK(info(Kind::FifoData).extra == Extra::PipeData);
	CHECK(info(Kind::GhostFile).extra == Extra::GhostFile);
	CHECK(info(Kind::SkQueues).extra == Extra::SkPacket);
	CHECK(info(Kind::SkQueues).magic == 0x56264026u);
}
