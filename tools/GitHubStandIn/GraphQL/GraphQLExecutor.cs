using System.Collections;
using System.Text.Json.Nodes;

namespace GitHubStandIn.GraphQL;

/// <summary>
/// An object in the stand-in's graph: its GraphQL type and how each field resolves (arguments resolved from variables). A
/// field resolves to null, a JSON scalar, another <see cref="GraphQLObject"/>, or a list of those.
/// </summary>
public sealed record GraphQLObject(string TypeName, Func<string, IReadOnlyDictionary<string, JsonNode?>, object?> Resolve);

/// <summary>The stand-in has no answer for a field GitHub's schema has: the test that asked for it learns which.</summary>
public sealed class UnansweredFieldException(string message) : Exception(message)
{
    public UnansweredFieldException()
        : this("The stand-in does not answer this field.")
    {
    }

    public UnansweredFieldException(string message, Exception innerException)
        : this(message + ": " + innerException?.Message)
    {
    }
}

/// <summary>Runs a validated operation against the stand-in's graph and builds the <c>data</c> object, field by field, as asked.</summary>
public static class GraphQLExecutor
{
    public static JsonObject Execute(GraphQLOperation operation, GraphQLObject root, IReadOnlyDictionary<string, JsonNode?> variables)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return Select(operation.Selections, root, variables);
    }

    private static JsonObject Select(IReadOnlyList<Selection> selections, GraphQLObject target, IReadOnlyDictionary<string, JsonNode?> variables)
    {
        var result = new JsonObject();
        foreach (var selection in selections)
        {
            switch (selection)
            {
                case InlineFragment fragment when fragment.TypeCondition is null || fragment.TypeCondition == target.TypeName ||
                                                  Interfaces(target.TypeName).Contains(fragment.TypeCondition):
                    foreach (var (key, value) in Select(fragment.Selections, target, variables))
                    {
                        result[key] = value?.DeepClone();
                    }

                    break;

                case FieldSelection field when field.Name == "__typename":
                    result[field.Key] = target.TypeName;
                    break;

                case FieldSelection field:
                {
                    var arguments = field.Arguments.ToDictionary(a => a.Key, a => a.Value.Resolve(variables), StringComparer.Ordinal);
                    result[field.Key] = Complete(target.Resolve(field.Name, arguments), field.Selections, variables);
                    break;
                }
            }
        }

        return result;
    }

    private static JsonNode? Complete(object? value, IReadOnlyList<Selection>? selections, IReadOnlyDictionary<string, JsonNode?> variables) => value switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        GraphQLObject obj => Select(selections ?? [], obj, variables),
        IEnumerable list => new JsonArray([.. list.Cast<object?>().Select(item => Complete(item, selections, variables))]),
        _ => JsonValue.Create(value.ToString()),
    };

    /// <summary>The interfaces the stand-in's object types implement that the app's queries spread on.</summary>
    private static string[] Interfaces(string typeName) => typeName switch
    {
        "User" or "Bot" => ["Actor"],
        _ => [],
    };
}
