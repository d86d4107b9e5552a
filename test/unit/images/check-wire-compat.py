#!/usr/bin/python3
"""Checks that our images/*.proto match CRIU's wire format, using the
descriptors Debian's criu package ships in pycriu as the reference.

usage: check-wire-compat.py OUR.desc [DUMP_KINDS_EXE]

OUR.desc is a FileDescriptorSet of our protos (protoc --include_imports).
DUMP_KINDS_EXE prints our image kinds table; its magic numbers, names and
entry messages are checked against pycriu's magic.py and crit's handlers.
Exits 77 (skip) when pycriu or python3-protobuf is missing.
"""
import importlib
import pkgutil
import subprocess
import sys

try:
    from google.protobuf import descriptor_pb2
    import pycriu.images
    from pycriu.images import images as criu_images, magic as criu_magic
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)

# CRIU 3.17 fields we leave out, each with the reason.
ALLOWED_MISSING = {
    'core_entry.ti_arm': 'ARM registers: we support x86_64 only',
    'core_entry.ti_aarch64': 'AArch64 registers: x86_64 only',
    'core_entry.ti_ppc64': 'PPC64 registers: x86_64 only',
    'core_entry.ti_s390': 'S390 registers: x86_64 only',
    'core_entry.ti_mips': 'MIPS registers: x86_64 only',
}

# Fields newer than CRIU 3.17 (taken from CRIU 4.x), on messages 3.17 has.
NEWER_FIELDS = {
    'task_core_entry.stop_signo',
    'thread_core_entry.cg_set',
    'inventory_entry.plugins_entry',
    'inventory_entry.dump_criu_run_id',
    'creds_entry.no_new_privs',
    'creds_entry.cap_amb',
}

# Messages 3.17 lacks: CRIU 4.x's plugins_entry and our own cipher images.
OUR_MESSAGES = {'plugins_entry', 'cipher_entry', 'cipher_key_entry', 'page_tags_entry'}

# Kinds that are not CRIU images with a magic: raw pages and our two.
OUR_KINDS = {'PAGES', 'CIPHER', 'PAGE_TAGS'}

errors = []


def error(msg):
    errors.append(msg)
    print('MISMATCH: ' + msg)


def collect(fdp, msgs, enums):
    """Indexes messages and enums of one FileDescriptorProto by full name."""
    prefix = fdp.package + '.' if fdp.package else ''

    def walk(m, scope):
        name = scope + m.name
        msgs[name] = m
        for e in m.enum_type:
            enums[name + '.' + e.name] = e
        for n in m.nested_type:
            walk(n, name + '.')

    for e in fdp.enum_type:
        enums[prefix + e.name] = e
    for m in fdp.message_type:
        walk(m, prefix)


def ours(path):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, 'rb') as f:
        fds.ParseFromString(f.read())
    msgs, enums = {}, {}
    for fdp in fds.file:
        collect(fdp, msgs, enums)
    return msgs, enums


def criu():
    msgs, enums = {}, {}
    for mod in pkgutil.iter_modules(pycriu.images.__path__):
        if not mod.name.endswith('_pb2'):
            continue
        m = importlib.import_module('pycriu.images.' + mod.name)
        fdp = descriptor_pb2.FileDescriptorProto()
        m.DESCRIPTOR.CopyToProto(fdp)
        collect(fdp, msgs, enums)
    return msgs, enums


def wire_facts(f):
    """What decides how a field is encoded and decoded."""
    packed = f.options.packed if f.options.HasField('packed') else None
    default = f.default_value if f.HasField('default_value') else None
    fdp = descriptor_pb2.FieldDescriptorProto
    return {'number': f.number, 'label': fdp.Label.Name(f.label), 'type': fdp.Type.Name(f.type),
            'type_name': f.type_name, 'packed': packed, 'default': default}


def check_messages(our_msgs, criu_msgs):
    n_msgs = n_fields = 0
    for name, m in sorted(our_msgs.items()):
        if name not in criu_msgs:
            if name not in OUR_MESSAGES:
                error(f'message {name} is not CRIU\'s (typo?)')
            continue
        n_msgs += 1
        theirs = {f.name: f for f in criu_msgs[name].field}
        their_numbers = {f.number: f.name for f in criu_msgs[name].field}
        for f in m.field:
            full = f'{name}.{f.name}'
            n_fields += 1
            if f.name not in theirs:
                if full not in NEWER_FIELDS:
                    error(f'{full} is not in CRIU\'s {name}')
                elif f.number in their_numbers:
                    error(f'{full} = {f.number} collides with CRIU\'s {their_numbers[f.number]}')
                continue
            a, b = wire_facts(f), wire_facts(theirs[f.name])
            for k in a:
                if a[k] != b[k]:
                    error(f'{full}: {k} is {a[k]!r}, CRIU has {b[k]!r}')
        have = {f.name for f in m.field}
        for fname in theirs:
            full = f'{name}.{fname}'
            if fname not in have and full not in ALLOWED_MISSING:
                error(f'{full} of CRIU is missing')
    return n_msgs, n_fields


def check_enums(our_enums, criu_enums):
    n = 0
    for name, e in sorted(our_enums.items()):
        if name not in criu_enums:
            error(f'enum {name} is not CRIU\'s')
            continue
        n += 1
        a = {v.name: v.number for v in e.value}
        b = {v.name: v.number for v in criu_enums[name].value}
        if a != b:
            error(f'enum {name}: {a} != CRIU {b}')
    return n


def check_kinds(exe):
    """Each line: name magic prefix crit_knows desc head file_fmt."""
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    n = 0
    for line in out.splitlines():
        name, magic, prefix, crit, desc, head, fmt = line.split('\t')
        magic, crit = int(magic), crit == '1'
        n += 1
        handler = criu_images.handlers.get(name)
        if name in OUR_KINDS:
            if magic in criu_magic.by_val or (magic == 0) != (name == 'PAGES'):
                error(f'kind {name}: magic {magic:#x} is CRIU\'s or unexpected')
            if crit:
                error(f'kind {name}: CRIU\'s crit cannot know it')
        elif criu_magic.by_name.get(name) != magic:
            error(f'kind {name}: magic {magic:#x}, CRIU has {criu_magic.by_name.get(name, 0):#x}')
        elif crit != (handler is not None):
            error(f'kind {name}: criu_crit_knows {crit}, crit has handler: {handler is not None}')
        want_prefix = ('none' if name in ('INVENTORY', 'PAGES') else
                       'service' if name == 'STATS' else 'common')
        if prefix != want_prefix:
            error(f'kind {name} ({fmt}): prefix {prefix}, expected {want_prefix}')
        payload = getattr(handler, 'payload', None)
        if payload is not None and payload.DESCRIPTOR.full_name != desc:
            error(f'kind {name}: entry {desc}, crit decodes {payload.DESCRIPTOR.full_name}')
        if name == 'PAGEMAP' and (head, desc) != ('pagemap_head', 'pagemap_entry'):
            error(f'kind {name}: entries {head}/{desc}')
    return n


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    our_msgs, our_enums = ours(sys.argv[1])
    criu_msgs, criu_enums = criu()
    n_msgs, n_fields = check_messages(our_msgs, criu_msgs)
    n_enums = check_enums(our_enums, criu_enums)
    summary = f'checked {n_msgs} messages, {n_fields} fields, {n_enums} enums'
    if len(sys.argv) == 3:
        summary += f', {check_kinds(sys.argv[2])} image kinds'
    print(summary)
    for full, why in sorted(ALLOWED_MISSING.items()):
        print(f'left out on purpose: {full} ({why})')
    if errors:
        print(f'FAILED: {len(errors)} mismatches')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
