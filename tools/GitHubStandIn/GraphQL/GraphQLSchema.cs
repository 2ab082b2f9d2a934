using System.Text.Json;
using System.Text.Json.Nodes;

namespace GitHubStandIn.GraphQL;

/// <summary>
/// GitHub's GraphQL schema, from its published introspection (npm <c>@octokit/graphql-schema</c>, <c>schema.json</c>), and the
/// checks GitHub makes before it runs a query: every field exists on its type, arguments exist and the required ones are
/// given, enum literals are values of their enum, leaves have no selections and objects have some, fragments name a type
/// that can be there, every variable used is declared and every required one has a value.
/// </summary>
public sealed class GraphQLSchema
{
    private static readonly Lazy<GraphQLSchema?> Published = new(Load);
    private readonly Dictionary<string, JsonObject> types;

    private GraphQLSchema(Dictionary<string, JsonObject> types) => this.types = types;

    /// <summary>The schema from <c>node_modules/@octokit/graphql-schema</c> (found from the current or the app's folder upwards), or null.</summary>
    public static GraphQLSchema? GitHub => Published.Value;

    /// <summary>Every way <paramref name="operation"/> breaks GitHub's schema; empty when it would run.</summary>
    public List<string> Validate(GraphQLOperation operation, IReadOnlyDictionary<string, JsonNode?> variables)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(variables);
        var errors = new List<string>();
        foreach (var (name, type) in operation.Variables)
        {
            if (type.EndsWith('!') && (!variables.TryGetValue(name, out var value) || value is null))
            {
                errors.Add($"Variable ${name} of type {type} was provided invalid value");
            }

            if (!types.ContainsKey(type.Trim('[', ']', '!')))
            {
                errors.Add($"{type.Trim('[', ']', '!')} isn't a defined input type (on ${name})");
            }
        }

        ValidateSet(operation.Kind == "mutation" ? "Mutation" : "Query", operation.Selections, operation, errors);
        return errors;
    }

    private void ValidateSet(string typeName, IReadOnlyList<Selection> selections, GraphQLOperation operation, List<string> errors)
    {
        var type = types[typeName];
        foreach (var selection in selections)
        {
            switch (selection)
            {
                case InlineFragment fragment:
                {
                    var condition = fragment.TypeCondition ?? typeName;
                    if (!types.ContainsKey(condition))
                    {
                        errors.Add($"No such type {condition}, so it can't be a fragment condition");
                    }
                    else if (!CanBe(typeName, condition))
                    {
                        errors.Add($"Fragment on {condition} can't be spread inside {typeName}");
                    }
                    else
                    {
                        ValidateSet(condition, fragment.Selections, operation, errors);
                    }

                    break;
                }

                case FieldSelection field when field.Name == "__typename":
                    if (field.Selections is not null)
                    {
                        errors.Add("Selections can't be made on scalars (field '__typename' returns String)");
                    }

                    break;

                case FieldSelection field:
                {
                    var definition = (type["fields"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(f => (string?)f["name"] == field.Name);
                    if (definition is null)
                    {
                        errors.Add($"Field '{field.Name}' doesn't exist on type '{typeName}'");
                        break;
                    }

                    var arguments = (definition["args"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
                    foreach (var (name, value) in field.Arguments)
                    {
                        var argument = arguments.FirstOrDefault(a => (string?)a["name"] == name);
                        if (argument is null)
                        {
                            errors.Add($"Field '{field.Name}' doesn't accept argument '{name}'");
                            continue;
                        }

                        if (value.Variable is { } variable && !operation.Variables.ContainsKey(variable))
                        {
                            errors.Add($"Variable ${variable} is used by {operation.Name ?? "anonymous query"} but not declared");
                        }

                        if (value.IsEnum && types.TryGetValue(Named(argument["type"]!), out var enumType) &&
                            !((enumType["enumValues"] as JsonArray) ?? []).OfType<JsonObject>().Any(v => (string?)v["name"] == (string?)value.Literal))
                        {
                            errors.Add($"Argument '{name}' on Field '{field.Name}' has an invalid value ({value.Literal}). Expected type '{Named(argument["type"]!)}'.");
                        }
                    }

                    foreach (var required in arguments.Where(a => (string?)a["type"]?["kind"] == "NON_NULL" && a["defaultValue"] is null))
                    {
                        if (!field.Arguments.ContainsKey((string)required["name"]!))
                        {
                            errors.Add($"Field '{field.Name}' is missing required arguments: {required["name"]}");
                        }
                    }

                    var returns = Named(definition["type"]!);
                    var kind = (string?)types[returns]["kind"];
                    var leaf = kind is "SCALAR" or "ENUM";
                    if (leaf && field.Selections is not null)
                    {
                        errors.Add($"Selections can't be made on scalars (field '{field.Name}' returns {returns} but has selections)");
                    }
                    else if (!leaf && field.Selections is null)
                    {
                        errors.Add($"Field must have selections (field '{field.Name}' returns {returns} but has no selections)");
                    }
                    else if (!leaf)
                    {
                        ValidateSet(returns, field.Selections!, operation, errors);
                    }

                    break;
                }
            }
        }
    }

    /// <summary>True when an object of type <paramref name="parent"/> may be a <paramref name="condition"/> (same, member, implementer).</summary>
    private bool CanBe(string parent, string condition) =>
        parent == condition || Possible(parent).Contains(condition) || Possible(condition).Contains(parent) ||
        Possible(parent).Intersect(Possible(condition)).Any();

    private HashSet<string> Possible(string typeName) =>
        [.. ((types[typeName]["possibleTypes"] as JsonArray) ?? []).OfType<JsonObject>().Select(t => (string)t["name"]!)];

    /// <summary>The named type under list and non-null wrappers.</summary>
    public static string Named(JsonNode type)
    {
        ArgumentNullException.ThrowIfNull(type);
        while (type["ofType"] is JsonObject inner && (string?)type["name"] is null)
        {
            type = inner;
        }

        return (string)type["name"]!;
    }

    private static GraphQLSchema? Load()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                var file = Path.Combine(folder.FullName, "node_modules", "@octokit", "graphql-schema", "schema.json");
                if (File.Exists(file))
                {
                    using var stream = File.OpenRead(file);
                    var root = JsonNode.Parse(stream, documentOptions: new JsonDocumentOptions { MaxDepth = 256 })!;
                    var schema = root["__schema"] ?? root["data"]?["__schema"];
                    return new GraphQLSchema(((JsonArray)schema!["types"]!).OfType<JsonObject>().ToDictionary(t => (string)t["name"]!, StringComparer.Ordinal));
                }
            }
        }

        return null;
    }
}
