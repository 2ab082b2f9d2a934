using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace GitHubStandIn.GraphQL;

/// <summary>A parse error, answered as GitHub answers one (200 with <c>errors</c>).</summary>
public sealed class GraphQLException(string message) : Exception(message)
{
    public GraphQLException()
        : this("GraphQL error")
    {
    }

    public GraphQLException(string message, Exception innerException)
        : this(message + ": " + innerException?.Message)
    {
    }
}

/// <summary>A selection: a field (with alias, arguments and sub-selection) or an inline fragment (<c>... on Type { }</c>).</summary>
public abstract record Selection;

public sealed record FieldSelection(string? Alias, string Name, IReadOnlyDictionary<string, GraphQLValue> Arguments, IReadOnlyList<Selection>? Selections) : Selection
{
    public string Key => Alias ?? Name;
}

public sealed record InlineFragment(string? TypeCondition, IReadOnlyList<Selection> Selections) : Selection;

/// <summary>An argument value: a literal (as JSON) or a variable.</summary>
public sealed record GraphQLValue(JsonNode? Literal, string? Variable, bool IsEnum = false)
{
    public JsonNode? Resolve(IReadOnlyDictionary<string, JsonNode?> variables) =>
        Variable is null ? Literal?.DeepClone() : variables.TryGetValue(Variable, out var value) ? value?.DeepClone() : null;
}

/// <summary>One operation of a document: <c>query Name($v: Type!) { ... }</c>.</summary>
public sealed record GraphQLOperation(string Kind, string? Name, IReadOnlyDictionary<string, string> Variables, IReadOnlyList<Selection> Selections);

/// <summary>
/// A parser for the executable part of GraphQL the stand-in answers: one operation, fields with aliases and arguments,
/// variables, inline fragments. Named fragments and directives are refused (the app does not send them).
/// </summary>
public static class GraphQLDocument
{
    public static GraphQLOperation Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new Reader(Lex(text));
        var operation = reader.Operation();
        if (!reader.AtEnd)
        {
            throw new GraphQLException($"Parse error on \"{reader.Peek.Text}\": one operation per document");
        }

        return operation;
    }

    private enum Kind { Punctuator, Name, Int, Float, String, End }

    private sealed record Token(Kind Kind, string Text);

    private static List<Token> Lex(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c) || c == ',' || c == '\uFEFF')
            {
                i++;
            }
            else if (c == '#')
            {
                while (i < text.Length && text[i] is not ('\n' or '\r'))
                {
                    i++;
                }
            }
            else if (text.AsSpan(i).StartsWith("..."))
            {
                tokens.Add(new Token(Kind.Punctuator, "..."));
                i += 3;
            }
            else if ("!$():=@[]{}|&".Contains(c, StringComparison.Ordinal))
            {
                tokens.Add(new Token(Kind.Punctuator, c.ToString()));
                i++;
            }
            else if (c == '_' || char.IsAsciiLetter(c))
            {
                var start = i;
                while (i < text.Length && (text[i] == '_' || char.IsAsciiLetterOrDigit(text[i])))
                {
                    i++;
                }

                tokens.Add(new Token(Kind.Name, text[start..i]));
            }
            else if (c == '-' || char.IsAsciiDigit(c))
            {
                var start = i++;
                var isFloat = false;
                while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] is '.' or 'e' or 'E' or '+' or '-'))
                {
                    isFloat |= text[i] is '.' or 'e' or 'E';
                    i++;
                }

                tokens.Add(new Token(isFloat ? Kind.Float : Kind.Int, text[start..i]));
            }
            else if (c == '"')
            {
                var value = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length || text[i] is '\n' or '\r')
                    {
                        throw new GraphQLException("Parse error: unterminated string");
                    }

                    if (text[i] == '"')
                    {
                        i++;
                        break;
                    }

                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        var escaped = text[i + 1];
                        if (escaped == 'u' && i + 5 < text.Length)
                        {
                            value.Append((char)int.Parse(text.AsSpan(i + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                            i += 6;
                            continue;
                        }

                        value.Append(escaped switch { 'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', _ => escaped });
                        i += 2;
                        continue;
                    }

                    value.Append(text[i++]);
                }

                tokens.Add(new Token(Kind.String, value.ToString()));
            }
            else
            {
                throw new GraphQLException($"Parse error: unexpected character '{c}'");
            }
        }

        tokens.Add(new Token(Kind.End, "<EOF>"));
        return tokens;
    }

    private sealed class Reader(List<Token> tokens)
    {
        private int position;

        public Token Peek => tokens[position];

        public bool AtEnd => Peek.Kind == Kind.End;

        private Token Next() => tokens[position++];

        private bool Is(string punctuator) => Peek.Kind == Kind.Punctuator && Peek.Text == punctuator;

        private void Expect(string punctuator)
        {
            if (!Is(punctuator))
            {
                throw new GraphQLException($"Parse error on \"{Peek.Text}\": expected \"{punctuator}\"");
            }

            position++;
        }

        private string Name()
        {
            if (Peek.Kind != Kind.Name)
            {
                throw new GraphQLException($"Parse error on \"{Peek.Text}\": expected a name");
            }

            return Next().Text;
        }

        public GraphQLOperation Operation()
        {
            if (Is("{"))
            {
                return new GraphQLOperation("query", null, new Dictionary<string, string>(), SelectionSet());
            }

            var kind = Name();
            if (kind is not ("query" or "mutation"))
            {
                throw new GraphQLException($"Parse error on \"{kind}\": expected query or mutation (fragments are not supported here)");
            }

            var name = Peek.Kind == Kind.Name ? Name() : null;
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            if (Is("("))
            {
                Expect("(");
                while (!Is(")"))
                {
                    Expect("$");
                    var variable = Name();
                    Expect(":");
                    variables[variable] = TypeReference();
                    if (Is("="))
                    {
                        Expect("=");
                        _ = Value();
                    }
                }

                Expect(")");
            }

            if (Is("@"))
            {
                throw new GraphQLException("Parse error: directives are not supported here");
            }

            return new GraphQLOperation(kind, name, variables, SelectionSet());
        }

        private string TypeReference()
        {
            string type;
            if (Is("["))
            {
                Expect("[");
                type = "[" + TypeReference() + "]";
                Expect("]");
            }
            else
            {
                type = Name();
            }

            if (Is("!"))
            {
                Expect("!");
                type += "!";
            }

            return type;
        }

        private List<Selection> SelectionSet()
        {
            Expect("{");
            var selections = new List<Selection>();
            while (!Is("}"))
            {
                if (AtEnd)
                {
                    throw new GraphQLException("Parse error: unclosed selection set");
                }

                selections.Add(Selection());
            }

            Expect("}");
            return selections;
        }

        private Selection Selection()
        {
            if (Is("..."))
            {
                Expect("...");
                if (Peek.Kind == Kind.Name && Peek.Text == "on")
                {
                    Next();
                    var type = Name();
                    return new InlineFragment(type, SelectionSet());
                }

                if (Is("{"))
                {
                    return new InlineFragment(null, SelectionSet());
                }

                throw new GraphQLException($"Parse error on \"{Peek.Text}\": named fragments are not supported here");
            }

            var first = Name();
            string? alias = null;
            var name = first;
            if (Is(":"))
            {
                Expect(":");
                alias = first;
                name = Name();
            }

            var arguments = new Dictionary<string, GraphQLValue>(StringComparer.Ordinal);
            if (Is("("))
            {
                Expect("(");
                while (!Is(")"))
                {
                    var argument = Name();
                    Expect(":");
                    arguments[argument] = Value();
                }

                Expect(")");
            }

            if (Is("@"))
            {
                throw new GraphQLException("Parse error: directives are not supported here");
            }

            return new FieldSelection(alias, name, arguments, Is("{") ? SelectionSet() : null);
        }

        private GraphQLValue Value()
        {
            var token = Peek;
            switch (token.Kind)
            {
                case Kind.Punctuator when token.Text == "$":
                    Next();
                    return new GraphQLValue(null, Name());
                case Kind.Int:
                    Next();
                    return new GraphQLValue(JsonValue.Create(long.Parse(token.Text, CultureInfo.InvariantCulture)), null);
                case Kind.Float:
                    Next();
                    return new GraphQLValue(JsonValue.Create(double.Parse(token.Text, CultureInfo.InvariantCulture)), null);
                case Kind.String:
                    Next();
                    return new GraphQLValue(JsonValue.Create(token.Text), null);
                case Kind.Name:
                    Next();
                    return token.Text switch
                    {
                        "true" => new GraphQLValue(JsonValue.Create(true), null),
                        "false" => new GraphQLValue(JsonValue.Create(false), null),
                        "null" => new GraphQLValue(null, null),
                        _ => new GraphQLValue(JsonValue.Create(token.Text), null, IsEnum: true),
                    };
                case Kind.Punctuator when token.Text == "[":
                {
                    Next();
                    var list = new JsonArray();
                    while (!Is("]"))
                    {
                        list.Add(Value().Literal);
                    }

                    Expect("]");
                    return new GraphQLValue(list, null);
                }

                case Kind.Punctuator when token.Text == "{":
                {
                    Next();
                    var obj = new JsonObject();
                    while (!Is("}"))
                    {
                        var key = Name();
                        Expect(":");
                        obj[key] = Value().Literal;
                    }

                    Expect("}");
                    return new GraphQLValue(obj, null);
                }

                default:
                    throw new GraphQLException($"Parse error on \"{token.Text}\": expected a value");
            }
        }
    }
}
