import type {ComplexAttributeConverter} from '@lit/reactive-element';

/**
 * A number attribute where only a written number counts: an empty or absent
 * attribute is "not set" (the default), and text that is not a number is NaN,
 * which the engine reports and replaces by the default.
 */
export const numberAttribute: ComplexAttributeConverter<number | undefined> = {
  fromAttribute: (value) => (value === null ? undefined : value.trim() === '' ? NaN : Number(value)),
  toAttribute: (value) => (value === undefined ? null : String(value)),
};
