import type {AttributeConverter} from './element-base.js';

/**
 * A number attribute where only a written number counts: removing the
 * attribute restores `fallback` (the default), and text that is not a number
 * (empty included) is NaN, which the engine reports and replaces by the
 * default.
 */
export const numberAttribute = (fallback: number): AttributeConverter<number> => ({
  fromAttribute: (value) => (value === null ? fallback : value.trim() === '' ? NaN : Number(value)),
});

/** A text attribute whose removal restores `fallback` (the default, or none). */
export const textAttribute = <T extends string | undefined>(fallback: T): AttributeConverter<T> => ({
  fromAttribute: (value) => (value ?? fallback) as T,
});

/** `shared`: absent is off, present and empty is on (shared by url), a value names the share. */
export const sharedAttribute: AttributeConverter<boolean | string> = {
  fromAttribute: (value) => (value === null ? false : value || true),
};
