using System.Text.Json;
using System.Text.Json.Nodes;
using GitHubStandIn.GraphQL;

namespace GitHubStandIn;

/// <summary>
/// GitHub's GraphQL endpoint (<c>POST /graphql</c>; Enterprise Server's <c>/api/graphql</c>): every query is checked against
/// GitHub's published schema before it runs, and answered as GitHub does (200 with <c>errors</c> for a query it refuses).
/// </summary>
public sealed partial class StandInServer
{
    private void MapGraphQL(WebApplication web)
    {
        web.MapPost("/graphql", (Delegate)GraphQLAsync);
        web.MapPost("/api/graphql", (Delegate)GraphQLAsync);
    }

    private async Task<IResult> GraphQLAsync(HttpContext context)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        if ((string?)body?["query"] is not { } query)
        {
            return Json(400, new JsonObject { ["message"] = "Problems parsing JSON", ["documentation_url"] = "https://docs.github.com/graphql" });
        }

        var variables = (body["variables"] as JsonObject)?.ToDictionary(v => v.Key, v => v.Value?.DeepClone(), StringComparer.Ordinal)
                        ?? new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (GraphQLSchema.GitHub is not { } schema)
        {
            return Json(500, new JsonObject { ["message"] = "The stand-in checks queries against node_modules/@octokit/graphql-schema: run 'npm ci' at the repository root." });
        }

        List<string> errors;
        GraphQLOperation operation;
        try
        {
            operation = GraphQLDocument.Parse(query);
            errors = schema.Validate(operation, variables);
        }
        catch (GraphQLException exception)
        {
            return GraphQLErrors([exception.Message]);
        }

        if (errors.Count > 0)
        {
            State.GraphQLRefusals.Enqueue((query, errors));
            return GraphQLErrors(errors);
        }

        try
        {
            return Json(200, new JsonObject { ["data"] = GraphQLExecutor.Execute(operation, new StandInGraph(State).Query(), variables) });
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // A stand-in without an answer (or with a bug): say which, so the test that asked shows it.
            return Json(500, new JsonObject { ["message"] = $"{exception.GetType().Name}: {exception.Message}" });
        }
    }

    private static IResult GraphQLErrors(IEnumerable<string> messages) =>
        Json(200, new JsonObject { ["errors"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject { ["message"] = m })]) });
}
