// Vue 3 sets properties on custom elements and turns `onWsMessage` into a
// listener for `ws-message`. In a single-file component the template reads:
//   <ws-connection :url="url" json @ws-state="..." @ws-message="..." ref="connection">
// with `compilerOptions.isCustomElement: (tag) => tag === 'ws-connection'`.
import {defineComponent, h, ref} from 'vue';
import 'ws-connection';

export const LiveFeed = defineComponent({
  props: {url: {type: String, required: true}},
  setup(props) {
    const connection = ref(null);
    const state = ref('idle');
    const messages = ref([]);
    const text = ref('');

    function submit(event) {
      event.preventDefault();
      if (connection.value.send({text: text.value})) text.value = '';
    }

    return () =>
      h('section', [
        h(
          'ws-connection',
          {
            ref: connection,
            url: props.url,
            json: true,
            onWsState: (event) => (state.value = event.detail.state),
            onWsMessage: (event) => messages.value.push(event.detail.data),
          },
          'Live feed',
        ),
        h('p', {class: 'state'}, state.value),
        h('form', {onSubmit: submit}, [
          h('input', {
            'aria-label': 'Message',
            value: text.value,
            onInput: (event) => (text.value = event.target.value),
          }),
          h('button', 'Send'),
        ]),
        h(
          'ul',
          messages.value.map((message, i) => h('li', {key: i}, JSON.stringify(message))),
        ),
      ]);
  },
});
