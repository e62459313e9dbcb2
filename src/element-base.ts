/** Reads an attribute's value, `null` when it is absent, as its property's value. */
export interface AttributeConverter<T> {
  fromAttribute(value: string | null): T;
}

/**
 * How a declared property meets its attribute: by a converter, as a boolean
 * (present is true; `reflect` writes the property back), or not at all.
 * The attribute is the property's name in lower case unless it is named.
 */
export type PropertyDeclaration =
  | {attribute?: string; converter: AttributeConverter<unknown>}
  | {attribute?: string; type: BooleanConstructor; reflect?: boolean}
  | {attribute: false};

export type PropertyDeclarations = Record<string, PropertyDeclaration>;

/** The properties changed since the last update, each with its value before. */
export type ChangedProperties = ReadonlyMap<PropertyKey, unknown>;

// On a server there is no DOM: the class still has to be importable there.
const Base = (globalThis.HTMLElement ?? class {}) as typeof HTMLElement;

/** Attribute → property, for each class, made once from its declarations. */
const attributeMaps = new WeakMap<typeof ElementBase, Map<string, string>>();
const sheets = new WeakMap<typeof ElementBase, CSSStyleSheet>();

/**
 * What `<ws-connection>` needs of a base class, and no more: declared
 * properties and their attributes, one update a microtask after any number
 * of changes, and a shadow root with the class's styles. The same semantics
 * as Lit's `ReactiveElement` where the element relies on them, at a fraction
 * of its size in the CDN entry.
 */
export abstract class ElementBase extends Base {
  /** The declared properties: each gets an accessor whose changes request an update. */
  static properties: PropertyDeclarations = {};
  /** The shadow root's stylesheet. */
  static styles = '';

  /** @internal */
  static get observedAttributes(): string[] {
    return [...ElementBase.#attributes(this).keys()];
  }

  /** Defines the accessors once per class, and maps its attributes to their properties. */
  static #attributes(ctor: typeof ElementBase): Map<string, string> {
    let map = attributeMaps.get(ctor);
    if (map) return map;
    map = new Map();
    for (const [name, declaration] of Object.entries(ctor.properties)) {
      if (declaration.attribute !== false) map.set(declaration.attribute ?? name.toLowerCase(), name);
      Object.defineProperty(ctor.prototype, name, {
        get(this: ElementBase) {
          return this.#values.get(name);
        },
        set(this: ElementBase, value: unknown) {
          const old = this.#values.get(name);
          this.#values.set(name, value);
          this.#changed(name, old, declaration);
        },
        configurable: true,
        enumerable: true,
      });
    }
    attributeMaps.set(ctor, map);
    return map;
  }

  readonly #values = new Map<string, unknown>();
  #changes = new Map<PropertyKey, unknown>();
  /** Properties set on the element before its class was defined (upgrade): set again on the first update. */
  #early: Map<string, unknown> | undefined;
  /** Property → the attribute it is reflected to in the next update. */
  #toReflect = new Map<string, string>();
  #pending = false;
  #rooted = false;
  #enable!: (enabled: boolean) => void;
  /** Updates wait for the first connection. */
  #update: Promise<boolean> = new Promise((resolve) => (this.#enable = resolve));

  constructor() {
    super();
    const ctor = this.constructor as typeof ElementBase;
    ElementBase.#attributes(ctor);
    for (const name of Object.keys(ctor.properties)) {
      if (!Object.hasOwn(this, name)) continue;
      (this.#early ??= new Map()).set(name, this[name as keyof this]);
      delete this[name as keyof this];
    }
    this.requestUpdate();
  }

  /** Resolves once no update is pending; `false` when another was requested during it. */
  get updateComplete(): Promise<boolean> {
    return this.#update;
  }

  /** Updates in a microtask, once for every request made until then. */
  requestUpdate(): void {
    if (this.#pending) return;
    this.#pending = true;
    this.#update = this.#enqueue(this.#update);
  }

  /** @internal */
  connectedCallback(): void {
    if (!this.#rooted) this.#createRenderRoot();
    this.#rooted = true;
    this.#enable(true);
  }

  /** @internal */
  attributeChangedCallback(attribute: string, _old: string | null, value: string | null): void {
    const ctor = this.constructor as typeof ElementBase;
    const name = ElementBase.#attributes(ctor).get(attribute);
    if (name === undefined) return;
    const declaration = ctor.properties[name];
    (this as Record<string, unknown>)[name] =
      'converter' in declaration ? declaration.converter.fromAttribute(value) : value !== null;
  }

  /** Before the update, with what changed: the place to act on properties. */
  protected willUpdate(_changed: ChangedProperties): void {}

  /** Reflects what is to be reflected and ends the update: what changes after it asks for a new one. */
  protected update(_changed: ChangedProperties): void {
    // The attribute's own change sets the property to the value it has: no loop.
    for (const [name, attribute] of this.#toReflect)
      this.toggleAttribute(attribute, Boolean(this[name as keyof this]));
    this.#toReflect.clear();
    this.#updated();
  }

  #changed(name: string, old: unknown, declaration: PropertyDeclaration): void {
    if (Object.is(old, this[name as keyof this])) return;
    if (!this.#changes.has(name)) this.#changes.set(name, old);
    if ('reflect' in declaration && declaration.reflect) {
      this.#toReflect.set(name, declaration.attribute ?? name.toLowerCase());
    }
    this.requestUpdate();
  }

  async #enqueue(previous: Promise<boolean>): Promise<boolean> {
    try {
      await previous;
    } catch {
      // That update's error was reported by its own promise; this one still runs.
    }
    if (this.#early) {
      for (const [name, value] of this.#early) (this as Record<string, unknown>)[name] = value;
      this.#early = undefined;
    }
    const changes = this.#changes;
    try {
      this.willUpdate(changes);
      this.update(changes);
    } catch (error) {
      this.#updated();
      throw error;
    }
    return !this.#pending;
  }

  #updated(): void {
    this.#changes = new Map();
    this.#pending = false;
  }

  /** The shadow root (one the page declared, or a new open one) with the class's styles. */
  #createRenderRoot(): void {
    const root = this.shadowRoot ?? this.attachShadow({mode: 'open'});
    const ctor = this.constructor as typeof ElementBase;
    if ('adoptedStyleSheets' in ShadowRoot.prototype && 'replaceSync' in CSSStyleSheet.prototype) {
      let sheet = sheets.get(ctor);
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(ctor.styles);
        sheets.set(ctor, sheet);
      }
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement('style');
      style.textContent = ctor.styles;
      root.append(style);
    }
  }
}
