/** A PostgreSQL server's URL; anything else opens the embedded database (or is refused by config). */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//.test(url);
