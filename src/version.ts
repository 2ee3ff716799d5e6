/**
 * This package's version, sent in the `User-Agent`. A test keeps it equal to package.json's.
 *
 * @since 0.1.0
 * @category constants
 */
export const VERSION = "0.1.0"
