// The globs of IAM-style lists (ALLOWED_FUNCTIONS, ALLOWED_IMAGE_REPOSITORIES, OUTPUT_BUCKET_ARNS) as regular expressions.

/** `*` matches any run of characters, `?` one; everything else literally; the whole string must match. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}$`);
}
