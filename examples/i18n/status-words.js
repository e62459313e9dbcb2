// The status area in German and in French: assign one to an element's
// `statusText`, on a page (or in a part of one) whose `lang` says the
// language, so that the numbers are written its way too ("3 Sek.", "1 234").
//
//   <html lang="de"> … document.querySelector('ws-connection').statusText = deutsch;

/** @type {Partial<import('ws-connection').StatusWords>} */
export const deutsch = {
  state: (state) =>
    ({
      idle: 'Nicht verbunden',
      connecting: 'Verbinde…',
      open: 'Verbunden',
      reconnecting: 'Verbinde neu',
      offline: 'Offline',
      closed: 'Getrennt',
    })[state],
  reconnecting: (attempt) => `Verbinde neu, Versuch ${attempt}`,
  retryIn: (seconds) => ` in ${seconds}`,
  latency: (milliseconds) => ` · ${milliseconds}`,
  closedWith: (code, reason) => `Getrennt (${code}${reason ? `: ${reason}` : ''})`,
  viaAnotherTab: (text) => `${text} · über einen anderen Tab`,
};

/** @type {Partial<import('ws-connection').StatusWords>} */
export const francais = {
  state: (state) =>
    ({
      idle: 'Non connecté',
      connecting: 'Connexion…',
      open: 'Connecté',
      reconnecting: 'Reconnexion',
      offline: 'Hors ligne',
      closed: 'Fermé',
    })[state],
  reconnecting: (attempt) => `Reconnexion, tentative ${attempt}`,
  retryIn: (seconds) => ` dans ${seconds}`,
  latency: (milliseconds) => ` · ${milliseconds}`,
  closedWith: (code, reason) => `Fermé (${code}${reason ? ` : ${reason}` : ''})`,
  viaAnotherTab: (text) => `${text} · via un autre onglet`,
};
