/* esa-plugin-loader-elf.c: reads a plugin's esa_plugin_abi number straight
 * from its ELF file, without loading it. dlopen runs a library's ELF
 * constructors before any symbol can be looked up, so the loader decides from
 * the file's bytes whether a module is worth loading at all, and esactl can
 * show a verdict without running plugin code as its caller. Only the dynamic
 * symbol table and the section the symbol lives in are read; the number is a
 * plain constant (ESA_PLUGIN_DEFINE), so no relocation applies to it. */
#include "config.h"

#include "esa-plugin-loader-private.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esa/esa-error.h"

#if defined(__linux__) || defined(__FreeBSD__)
#include <elf.h>
#include <link.h>

/* Reads exactly @len bytes at @off, or fails: a short file is a bad file. */
static gboolean
read_at (int fd, goffset size, goffset off, void *buf, gsize len)
{
  if (off < 0 || (goffset) len > size || off > size - (goffset) len)
    return FALSE;
  return pread (fd, buf, len, (off_t) off) == (ssize_t) len;
}

static gboolean
bad_elf (GError **error, const char *what)
{
  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "not a loadable shared object for this system (%s)", what);
  return FALSE;
}

gboolean
esa_plugin_elf_read_abi (int fd, guint32 *abi, GError **error)
{
  struct stat st;
  ElfW (Ehdr) eh;
  g_autofree ElfW (Shdr) *sh = NULL;
  ElfW (Shdr) *dynsym = NULL, *dynstr;
  gsize nsyms;

  if (fstat (fd, &st) != 0)
    return bad_elf (error, g_strerror (errno));
  if (!read_at (fd, st.st_size, 0, &eh, sizeof eh) || memcmp (eh.e_ident, ELFMAG, SELFMAG) != 0)
    return bad_elf (error, "no ELF header");
  if (eh.e_ident[EI_CLASS] != (sizeof (void *) == 8 ? ELFCLASS64 : ELFCLASS32))
    return bad_elf (error, "wrong ELF class");
  if (eh.e_ident[EI_DATA] != (G_BYTE_ORDER == G_LITTLE_ENDIAN ? ELFDATA2LSB : ELFDATA2MSB))
    return bad_elf (error, "wrong byte order");
  if (eh.e_type != ET_DYN)
    return bad_elf (error, "not a shared object");
  if (eh.e_shentsize != sizeof (ElfW (Shdr)) || eh.e_shnum == 0 || eh.e_shnum > 4096)
    return bad_elf (error, "no usable section headers");
  sh = g_new (ElfW (Shdr), eh.e_shnum);
  if (!read_at (fd, st.st_size, (goffset) eh.e_shoff, sh, sizeof (ElfW (Shdr)) * eh.e_shnum))
    return bad_elf (error, "section headers beyond the end of the file");
  for (guint i = 0; i < eh.e_shnum && dynsym == NULL; i++)
    if (sh[i].sh_type == SHT_DYNSYM)
      dynsym = &sh[i];
  if (dynsym == NULL || dynsym->sh_link >= eh.e_shnum || dynsym->sh_entsize != sizeof (ElfW (Sym)))
    return bad_elf (error, "no dynamic symbol table");
  dynstr = &sh[dynsym->sh_link];
  nsyms = dynsym->sh_size / sizeof (ElfW (Sym));
  for (gsize i = 0; i < nsyms && i < 1000000; i++)
    {
      ElfW (Sym) sym;
      char name[sizeof "esa_plugin_abi"] = { 0 };
      ElfW (Shdr) *sec;
      if (!read_at (fd, st.st_size, (goffset) (dynsym->sh_offset + i * sizeof sym), &sym, sizeof sym))
        return bad_elf (error, "symbol table beyond the end of the file");
      if (sym.st_name >= dynstr->sh_size || sym.st_shndx == SHN_UNDEF)
        continue;
      if (!read_at (fd, st.st_size, (goffset) (dynstr->sh_offset + sym.st_name), name,
                    MIN (sizeof name, dynstr->sh_size - sym.st_name)))
        continue;
      if (strncmp (name, "esa_plugin_abi", sizeof name) != 0)
        continue;
      if (sym.st_shndx >= eh.e_shnum || sym.st_size < sizeof (guint32))
        return bad_elf (error, "esa_plugin_abi is not a 32-bit number");
      sec = &sh[sym.st_shndx];
      if (sec->sh_type == SHT_NOBITS)
        {
          *abi = 0;
          return TRUE;
        }
      if (sym.st_value < sec->sh_addr || sym.st_value - sec->sh_addr > sec->sh_size - sizeof (guint32) ||
          !read_at (fd, st.st_size, (goffset) (sec->sh_offset + (sym.st_value - sec->sh_addr)), abi, sizeof *abi))
        return bad_elf (error, "esa_plugin_abi lies outside its section");
      return TRUE;
    }
  g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND,
               "no esa_plugin_abi symbol (not an OpenESA plugin, or built without ESA_PLUGIN_DEFINE)");
  return FALSE;
}

#else /* AIX (XCOFF): the ABI number is read after loading, from the module. */

gboolean
esa_plugin_elf_read_abi (int fd, guint32 *abi, GError **error)
{
  g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_SUPPORTED,
               "reading a module without loading it is not supported on this system");
  return FALSE;
}

#endif
