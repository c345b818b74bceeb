export default function App() {
  return <h1>${{ values.name }}</h1>;
}
